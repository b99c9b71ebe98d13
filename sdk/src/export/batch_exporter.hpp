#pragma once
// The delivery side of a push backend (internal; OTLP, Datadog): a bounded
// queue of items (spans, log records or metric snapshots) and one thread
// that batches them, encodes each batch into one or more payloads (a
// receiver's request size limits) and sends each through a transport,
// retrying transient failures with exponential backoff and jitter (or the
// receiver's Retry-After) within the payload's time budget.
//
// The backend's write() only copies into the queue, so a slow receiver
// never holds up the pipeline thread or the other backends on it. Every
// item ends up counted exactly once: exported, failed (rejected, retries
// exhausted, shutdown deadline) or dropped (queue full).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/self_metrics.hpp"
#include "export/transport.hpp"
#include "obs/instruments.hpp"

namespace obs::internal {

struct ExporterSettings {
  std::string signal;   // "spans", "logs", "metrics": the obs_exporter_* label
  std::string backend;  // "otlp", "otlp_file", "datadog": the label, and the start of messages
  std::size_t max_queue_size = 2048;
  std::size_t max_batch_size = 512;
  std::chrono::milliseconds schedule_delay{5000};
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds max_export_time{30000};
};

// One request body and how many data points it carries (for the counts).
struct Payload {
  std::string body;
  std::uint64_t weight = 0;
};

template <class Item>
class BatchExporter {
 public:
  using Clock = std::chrono::steady_clock;
  // Encodes a batch into request bodies; their weights add up to the batch's.
  using Encode = std::function<std::vector<Payload>(std::span<const Item>)>;
  // How many data points an item stands for in the self-metrics.
  using Weight = std::function<std::uint64_t(const Item&)>;

  BatchExporter(ExporterSettings settings, std::unique_ptr<Transport> transport, Encode encode, Weight weight)
      : state_(std::make_shared<State>()) {
    auto& s = *state_;
    s.settings = std::move(settings);
    s.settings.max_queue_size = std::max<std::size_t>(s.settings.max_queue_size, 1);
    s.settings.max_batch_size = std::clamp<std::size_t>(s.settings.max_batch_size, 1, s.settings.max_queue_size);
    s.settings.max_attempts = std::max(s.settings.max_attempts, 1);
    // Durations set in code are unchecked: keep every sum with now() in range.
    const auto clamp = [](std::chrono::milliseconds& d) { d = std::clamp(d, std::chrono::milliseconds(0), kMaxWait); };
    clamp(s.settings.schedule_delay);
    clamp(s.settings.initial_backoff);
    clamp(s.settings.max_backoff);
    clamp(s.settings.max_export_time);
    s.settings.initial_backoff = std::min(s.settings.initial_backoff, s.settings.max_backoff);
    s.transport = std::move(transport);
    s.encode = std::move(encode);
    s.weight = std::move(weight);
    const auto& counters = exporter_counters();
    s.exported = counters.exported.labels(s.settings.signal, s.settings.backend);
    s.failed = counters.failed.labels(s.settings.signal, s.settings.backend);
    s.dropped = counters.dropped.labels(s.settings.signal, s.settings.backend + "_queue_full");
    s.dropped_stopped = counters.dropped.labels(s.settings.signal, s.settings.backend + "_shut_down");
    thread_ = std::thread([state = state_] { state->run(); });
  }
  ~BatchExporter() { shutdown(Clock::now() + std::chrono::seconds(5)); }
  BatchExporter(const BatchExporter&) = delete;
  BatchExporter& operator=(const BatchExporter&) = delete;

  const std::string& destination() const { return state_->transport->destination(); }

  // Copies what fits into the queue; the rest is counted as dropped.
  void add(std::span<const Item> items) {
    std::vector<Item> copies(items.begin(), items.end());  // outside the lock
    add_moved(copies);
  }
  void add(Item item) {
    std::vector<Item> one;
    one.push_back(std::move(item));
    add_moved(one);
  }

  // Returns once everything added before the call is delivered or given
  // up on; false if `deadline` came first (delivery goes on).
  bool flush(Clock::time_point deadline) {
    auto& s = *state_;
    std::unique_lock lock(s.mutex);
    const std::uint64_t target = s.added;
    s.flush_target = std::max(s.flush_target, target);
    s.wake.notify_all();
    return s.progress.wait_until(lock, before(deadline, 2 * kAbortMargin),
                                 [&] { return s.finished >= target || s.exited; }) &&
           s.finished >= target;
  }

  // Delivers what is queued until `deadline`, then cuts any request in
  // flight short, counts what is left as failed and stops the thread.
  void shutdown(Clock::time_point deadline) {
    if (!thread_.joinable()) return;
    auto& s = *state_;
    {
      std::lock_guard lock(s.mutex);
      s.stop = true;
      s.stop_deadline = deadline;
    }
    s.wake.notify_all();
    bool exited;
    {
      std::unique_lock lock(s.mutex);
      exited = s.progress.wait_until(lock, before(deadline, kAbortMargin), [&] { return s.exited; });
      if (!exited) s.aborting = true;
    }
    if (!exited) {
      s.wake.notify_all();
      // Cutting the request short (Client::stop) waits for httplib's socket
      // mutex, which a connect, TLS handshake or name lookup holds until
      // its own timeout: done on a thread of its own, so this one returns
      // in time. It repeats, in case a request starts just after an abort.
      std::thread([state = state_] {
        // Bounded: a thread stuck for good (a name lookup that never
        // returns) is left alone rather than poked forever.
        for (int i = 0; i < 2000; ++i) {
          state->transport->abort();
          std::unique_lock lock(state->mutex);
          if (state->progress.wait_for(lock, std::chrono::milliseconds(5), [&] { return state->exited; })) return;
        }
      }).detach();
      std::unique_lock lock(s.mutex);
      exited = s.progress.wait_until(lock, before(deadline, kAbortMargin / 5), [&] { return s.exited; });
    }
    if (exited) thread_.join();
    else thread_.detach();  // it holds its own reference to the state
  }

 private:
  // flush() and then shutdown() are called with the same deadline by a
  // pipeline thread that must be done by then: flush gives up two margins
  // early, shutdown aborts one margin early.
  static constexpr auto kAbortMargin = std::chrono::milliseconds(50);
  static constexpr auto kMaxWait = std::chrono::milliseconds(std::chrono::hours(24));
  static Clock::time_point before(Clock::time_point deadline, Clock::duration margin) {
    return deadline == Clock::time_point::max() ? deadline : deadline - margin;
  }

  struct State {
    ExporterSettings settings;
    std::unique_ptr<Transport> transport;
    Encode encode;
    Weight weight;
    Counter exported, failed, dropped, dropped_stopped;

    std::mutex mutex;
    std::condition_variable wake;      // the thread: work, flush, stop
    std::condition_variable progress;  // flush() and shutdown() callers
    std::deque<Item> queue;
    std::deque<Clock::time_point> queued_at;  // per item: the schedule delay runs from the oldest
    std::uint64_t added = 0;     // items accepted so far
    std::uint64_t finished = 0;  // items delivered or given up on
    std::uint64_t flush_target = 0;
    bool stop = false;
    bool aborting = false;  // shutdown deadline passed
    bool exited = false;
    Clock::time_point stop_deadline = Clock::time_point::max();
    std::minstd_rand jitter{std::random_device{}()};

    void run();
    void deliver(std::vector<Item>& batch);
    void send(const Payload& payload);
    // Waits until `until` unless shutdown's deadline passes first; false then.
    bool pause_until(Clock::time_point until);
    void give_up(std::uint64_t weight, const std::string& kind, const std::string& problem);
  };

  void add_moved(std::vector<Item>& items) {
    auto& s = *state_;
    std::uint64_t dropped = 0;
    {
      std::lock_guard lock(s.mutex);
      if (s.stop) {
        std::uint64_t late = 0;
        for (const auto& i : items) late += s.weight(i);
        s.dropped_stopped.inc(late);
      } else {
        const auto now = Clock::now();
        const std::size_t before = s.queue.size();
        for (auto& i : items) {
          if (s.queue.size() >= s.settings.max_queue_size) {
            dropped += s.weight(i);
            continue;
          }
          s.queue.push_back(std::move(i));
          s.queued_at.push_back(now);
          ++s.added;
        }
        // Wake the thread when this add makes a batch due (the queue reaches
        // a full batch) or starts the schedule delay's timer (its first
        // item); not on every add to a queue that is already full: while
        // the receiver is down, that woke the thread waiting to retry about
        // a thousand times a second for nothing.
        const std::size_t after = s.queue.size();
        if ((before < s.settings.max_batch_size && after >= s.settings.max_batch_size) || (before == 0 && after > 0))
          s.wake.notify_all();
      }
    }
    if (dropped > 0) {
      s.dropped.inc(dropped);
      report_error(s.settings.backend + "-queue-full-" + s.settings.signal,
                             s.settings.backend + " " + s.settings.signal + " queue is full (" +
                                 std::to_string(s.settings.max_queue_size) + " waiting for " +
                                 s.transport->destination() +
                                 "); new items are dropped and counted in obs_exporter_dropped");
    }
  }

  std::shared_ptr<State> state_;
  std::thread thread_;
};

template <class Item>
void BatchExporter<Item>::State::run() {
  std::vector<Item> batch;
  std::unique_lock lock(mutex);
  for (;;) {
    const auto batch_due = [&] {
      return !queue.empty() && (queue.size() >= settings.max_batch_size || stop || flush_target > finished ||
                                Clock::now() >= queued_at.front() + settings.schedule_delay);
    };
    if (queue.empty() && stop) break;
    if (!batch_due()) {
      const auto until = queue.empty() ? Clock::time_point::max() : queued_at.front() + settings.schedule_delay;
      // No predicate: whatever woke us (an item, a flush, stop), the loop
      // re-evaluates, and the timer is recomputed for a newly queued item.
      if (until == Clock::time_point::max()) wake.wait(lock);
      else wake.wait_until(lock, until);
      continue;
    }
    const std::size_t n = std::min(queue.size(), settings.max_batch_size);
    batch.clear();
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
      queued_at.pop_front();
    }
    lock.unlock();
    try {
      deliver(batch);
    } catch (...) {
      std::uint64_t w = 0;
      for (const auto& i : batch) w += weight(i);
      give_up(w, "exception", "export failed: " + describe(std::current_exception()));
    }
    lock.lock();
    finished += n;
    progress.notify_all();
  }
  exited = true;
  progress.notify_all();
}

template <class Item>
bool BatchExporter<Item>::State::pause_until(Clock::time_point until) {
  std::unique_lock lock(mutex);
  return !wake.wait_until(lock, std::min(until, stop_deadline), [&] { return aborting || Clock::now() >= stop_deadline; }) &&
         Clock::now() < stop_deadline;
}

template <class Item>
void BatchExporter<Item>::State::give_up(std::uint64_t w, const std::string& kind, const std::string& problem) {
  failed.inc(w);
  report_error(settings.backend + "-" + settings.signal + "-" + kind,
                         settings.backend + " " + settings.signal + " export failed, " + std::to_string(w) +
                             " items lost: " + problem);
}

template <class Item>
void BatchExporter<Item>::State::deliver(std::vector<Item>& batch) {
  std::uint64_t total = 0;
  for (const auto& i : batch) total += weight(i);
  std::vector<Payload> payloads;
  try {
    payloads = encode(std::span<const Item>(batch.data(), batch.size()));
  } catch (...) {
    return give_up(total, "encode", "encoding failed: " + describe(std::current_exception()));
  }
  std::uint64_t done = 0;
  for (const auto& p : payloads) {
    try {
      send(p);
    } catch (...) {
      give_up(p.weight, "exception", "export failed: " + describe(std::current_exception()));
    }
    done += p.weight;
  }
  // Items an encoder left out (nothing it could send) are lost, not uncounted.
  if (done < total) give_up(total - done, "encode", "the encoder produced no request for them");
}

template <class Item>
void BatchExporter<Item>::State::send(const Payload& payload) {
  const std::uint64_t w = payload.weight;
  const auto started = Clock::now();
  auto backoff = settings.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    {
      std::lock_guard lock(mutex);
      if (aborting) return give_up(w, "shutdown", "the shutdown deadline passed before it was sent");
    }
    SendResult r = transport->send(payload.body);
    if (r.outcome == SendResult::Outcome::Delivered) {
      const auto rejected = std::min(r.rejected, w);
      exported.inc(w - rejected);
      if (rejected > 0) failed.inc(rejected);
      if (!r.problem.empty()) report_error(settings.backend + "-" + settings.signal + "-partial", r.problem);
      return;
    }
    if (r.outcome == SendResult::Outcome::Reject) return give_up(w, r.kind, r.problem + " (not retried)");
    if (attempt >= settings.max_attempts)
      return give_up(w, r.kind, r.problem + " (gave up after " + std::to_string(attempt) + " attempts)");
    // Equal jitter: half the backoff fixed, half random, so clients that
    // failed together do not retry together.
    auto wait = backoff / 2 + std::chrono::milliseconds(std::uniform_int_distribution<long long>(
                                  0, std::max<long long>(backoff.count() / 2, 0))(jitter));
    if (r.retry_after) wait = *r.retry_after;
    backoff = std::min(backoff, settings.max_backoff / 2) * 2;  // no overflow, whatever max_backoff is
    const auto retry_at = Clock::now() + wait;
    if (retry_at > started + settings.max_export_time)
      return give_up(w, r.kind,
                     r.problem + " (retrying would exceed the export time limit of " +
                         std::to_string(settings.max_export_time.count()) + " ms)");
    if (!pause_until(retry_at))
      return give_up(w, "shutdown", r.problem + " (the shutdown deadline passed while waiting to retry)");
  }
}

}  // namespace obs::internal
