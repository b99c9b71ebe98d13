// obs::init: builds the pipelines and backends from a Config and ties them
// to the handle's lifetime.
#include "obs/sdk.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "core/call_deadline.hpp"
#include "core/counts_own_deliveries.hpp"
#include "core/diagnostics.hpp"
#include "core/fork_locks.hpp"
#include "core/self_metrics.hpp"
#include "http/admin_server.hpp"
#include "log/log_channel.hpp"
#include "log/log_pipeline.hpp"
#include "metrics/process_metrics.hpp"
#include "obs/backends/console_span.hpp"
#include "trace/context.hpp"
#include "trace/sampler.hpp"
#include "trace/span_pipeline.hpp"
#include "obs/backends/console.hpp"
#include "obs/backends/prometheus.hpp"
#include "obs/log.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/otlp.hpp"
#include "obs/version.hpp"

namespace obs {
namespace {

std::atomic<bool> g_active{false};

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

// Makes every call into the metrics backends, all on its own thread:
// write() to push backends at their interval, and the flush()/shutdown()
// that Sdk::flush/shutdown ask for. The caller only waits, until its
// deadline: a backend stuck in a call holds up this thread, never the
// application's (at shutdown the thread is then left to finish alone).
class MetricsExporter {
 public:
  MetricsExporter(std::vector<std::shared_ptr<MetricsBackend>> backends, MetricsProducer producer)
      : state_(std::make_shared<State>()) {
    state_->producer = std::move(producer);
    const auto& counters = internal::exporter_counters();
    for (auto& b : backends) {
      const std::string name(b->name());
      const bool counts_itself = dynamic_cast<const internal::CountsOwnDeliveries*>(b.get()) != nullptr;
      state_->backends.push_back({std::move(b), counters.exported.labels("metrics", name),
                                  counters.failed.labels("metrics", name), counts_itself});
    }
  }
  ~MetricsExporter() {
    request_stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    wait_stopped(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  }

  void start() {
    thread_ = std::thread([state = state_] {
      try {
        state->run();
      } catch (...) {
        internal::report_error("metrics-exporter",
                               "metrics export thread stopped: " + internal::describe(std::current_exception()));
      }
      std::lock_guard lock(state->mutex);
      state->exited = true;
      state->progress.notify_all();
    });
  }
  // A fresh snapshot to every push backend, then flush() on all of them;
  // wait_flushed is false if that did not complete by the deadline.
  std::uint64_t request_flush(internal::SteadyTime deadline) {
    std::lock_guard lock(state_->mutex);
    state_->flush_deadline = deadline;
    state_->wake.notify_all();
    return ++state_->flush_requests;
  }
  bool wait_flushed(std::uint64_t generation, internal::SteadyTime deadline) {
    std::unique_lock lock(state_->mutex);
    state_->progress.wait_until(lock, deadline, [&] { return state_->flushed >= generation || state_->exited; });
    return state_->flushed >= generation && state_->flush_complete;
  }
  // Last push, then flush() and shutdown() on every backend.
  void request_stop(internal::SteadyTime deadline) {
    std::lock_guard lock(state_->mutex);
    if (state_->stop) return;
    state_->stop = true;
    state_->stop_deadline = deadline;
    state_->wake.notify_all();
  }
  bool wait_stopped(internal::SteadyTime deadline) {
    if (!thread_.joinable()) return true;
    bool exited;
    {
      std::unique_lock lock(state_->mutex);
      exited = state_->progress.wait_until(lock, deadline, [&] { return state_->exited; });
    }
    if (exited) {
      thread_.join();
    } else {
      internal::report_error("metrics-shutdown",
                             "metrics export did not stop within the shutdown deadline; a metrics backend is stuck");
      thread_.detach();  // it owns its state and finishes alone
    }
    return exited;
  }

 private:
  struct Slot {
    std::shared_ptr<MetricsBackend> backend;
    Counter exported;
    Counter failed;
    bool counts_itself;  // see CountsOwnDeliveries
  };
  struct State {
    std::vector<Slot> backends;
    MetricsProducer producer;
    std::mutex mutex;  // guards the requests and answers below
    std::condition_variable wake;
    std::condition_variable progress;
    std::uint64_t flush_requests = 0;
    std::uint64_t flushed = 0;
    bool flush_complete = true;
    internal::SteadyTime flush_deadline{};
    bool stop = false;
    internal::SteadyTime stop_deadline{};
    bool exited = false;

    static bool is_push(const Slot& b) { return b.backend->export_interval().count() > 0; }

    template <class F>
    static bool guarded(const Slot& b, const char* what, F&& call) {
      try {
        call();
        return true;
      } catch (...) {
        const std::string name(b.backend->name());
        internal::report_error("metrics-" + std::string(what) + "-" + name,
                               "metrics backend '" + name + "' failed to " + what + ": " +
                                   internal::describe(std::current_exception()));
        return false;
      }
    }

    void write(Slot& b, const MetricsSnapshot& snapshot) {
      std::uint64_t series = 0;
      for (const auto& f : snapshot.families) series += f.series.size();
      if (guarded(b, "write", [&] { b.backend->write(snapshot); })) {
        if (!b.counts_itself) b.exported.inc(series);
      } else {
        b.failed.inc(series);
      }
    }

    void push_all() {
      std::optional<MetricsSnapshot> snapshot;
      for (auto& b : backends) {
        if (!is_push(b)) continue;
        if (!snapshot) snapshot = producer();
        write(b, *snapshot);
      }
    }

    void run() {
      using Clock = std::chrono::steady_clock;
      std::vector<Clock::time_point> due(backends.size(), Clock::now());
      for (std::size_t i = 0; i < backends.size(); ++i) due[i] += backends[i].backend->export_interval();
      std::unique_lock lock(mutex);
      for (;;) {
        auto next = Clock::time_point::max();
        for (std::size_t i = 0; i < backends.size(); ++i)
          if (is_push(backends[i])) next = std::min(next, due[i]);
        wake.wait_until(lock, next, [&] { return stop || flush_requests > flushed || Clock::now() >= next; });
        if (stop) break;
        if (flush_requests > flushed) {
          const std::uint64_t generation = flush_requests;
          const auto deadline = flush_deadline;
          lock.unlock();
          const internal::CallDeadlineScope within(deadline);
          push_all();
          for (auto& b : backends) guarded(b, "flush", [&] { b.backend->flush(); });
          lock.lock();
          flushed = generation;
          flush_complete = !within.incomplete();
          progress.notify_all();
          continue;
        }
        lock.unlock();
        const auto now = Clock::now();
        std::optional<MetricsSnapshot> snapshot;
        for (std::size_t i = 0; i < backends.size(); ++i) {
          if (!is_push(backends[i]) || due[i] > now) continue;
          if (!snapshot) snapshot = producer();
          write(backends[i], *snapshot);
          due[i] = now + backends[i].backend->export_interval();
        }
        lock.lock();
      }
      const auto deadline = stop_deadline;
      lock.unlock();
      const internal::CallDeadlineScope within(deadline);
      push_all();
      for (auto& b : backends) {
        guarded(b, "flush", [&] { b.backend->flush(); });
        guarded(b, "shut down", [&] { b.backend->shutdown(); });
      }
    }
  };

  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace

struct Sdk::State {
  Config config;
  Resource resource;
  std::vector<std::string> errors;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::shared_ptr<internal::LogQueue> log_queue;
  std::unique_ptr<internal::LogPipeline> log_pipeline;
  std::unique_ptr<internal::SpanPipeline> span_pipeline;
  std::unique_ptr<MetricsExporter> metrics;
  std::shared_ptr<PrometheusBackend> prometheus;  // what the admin server renders
  std::unique_ptr<internal::AdminServer> admin;
  internal::HealthJsonSource health_source;
  std::uint16_t admin_port = 0;  // kept: admin may be released (leaked) by shutdown
  bool owns_global = false;
  std::atomic<bool> stopped{false};  // read without the lifecycle lock

  void error(std::string message) {
    internal::report_error("init:" + message.substr(0, 60), message);
    // A forked child rebuilds its pipelines and meets the same problems.
    if (std::find(errors.begin(), errors.end(), message) == errors.end()) errors.push_back(std::move(message));
  }
  // Builds a built-in backend; one that cannot start (bad endpoint,
  // unreadable certificate) is reported and left out, the rest go on.
  template <class List, class Make>
  void add_builtin(const char* what, List& list, Make&& make) {
    try {
      list.push_back(make());
    } catch (...) {
      error(std::string(what) + " export is off: " + internal::describe(std::current_exception()));
    }
  }
  // The log, span and metrics pipelines with their backends, from config.
  // In a forked child the admin server is not among them (the parent
  // keeps its port), so neither is the Prometheus backend it serves.
  void start_pipelines(bool in_forked_child);
  // After fork(), in the child: the parent's threads do not exist here,
  // so their objects are abandoned as they are (never destroyed, never
  // called) with whatever they had buffered, and new ones are started.
  void restart_in_forked_child();
};

namespace {

// Serializes init, flush, shutdown and fork() of the running Sdk. Timed:
// a flush or shutdown waiting behind another still returns by its own
// deadline.
//
// Not std::timed_mutex: its try_lock_until is pthread_mutex_clocklock,
// which GCC 12's ThreadSanitizer does not intercept (it then reports every
// unlock as one of an unlocked mutex).
class LifecycleLock {
 public:
  void lock() {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return !held_; });
    held_ = true;
  }
  bool try_lock_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!released_.wait_until(lock, deadline, [&] { return !held_; })) return false;
    held_ = true;
    return true;
  }
  void unlock() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    released_.notify_all();  // all: after fork() the child's condition variable may count waiters it does not have
  }
  // Held across fork() with the lock itself: another thread may be inside
  // lock() or unlock() at that moment.
  void lock_for_fork() {
    lock();
    mutex_.lock();
  }
  void unlock_after_fork() {
    mutex_.unlock();
    unlock();
  }

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool held_ = false;
};
LifecycleLock g_lifecycle;
Sdk::State* g_running = nullptr;  // the Sdk that owns the global state; guarded by g_lifecycle

// fork() while another thread holds one of these would leave it locked
// forever in the child. They are taken in the order the SDK itself nests
// them (the per-thread metric blocks, which come after the registry's,
// hold themselves: cells.cpp); the child then restarts the pipelines.
void lock_for_fork() {
  g_lifecycle.lock_for_fork();
  internal::log_channel().lock_for_fork();
  internal::span_channel().lock_for_fork();
  internal::lock_health_sources_for_fork();
  internal::lock_metrics_registry_for_fork();
  internal::lock_diagnostics_for_fork();
}
void unlock_after_fork_in_parent() {
  internal::unlock_diagnostics_after_fork();
  internal::unlock_metrics_registry_after_fork();
  internal::unlock_health_sources_after_fork();
  internal::span_channel().unlock_after_fork();
  internal::log_channel().unlock_after_fork();
  g_lifecycle.unlock_after_fork();
}
bool g_restarting_after_fork = false;  // only the forking thread exists then

// Sdk::shutdown's work, with g_lifecycle held.
void stop_locked(Sdk::State& s, std::chrono::steady_clock::time_point deadline);

void unlock_after_fork_in_child() {
  internal::unlock_diagnostics_after_fork();
  internal::unlock_metrics_registry_after_fork();
  internal::unlock_health_sources_after_fork();
  internal::span_channel().unlock_after_fork();
  internal::log_channel().unlock_after_fork();
  if (g_running && !g_running->stopped) {
    g_restarting_after_fork = true;
    g_running->restart_in_forked_child();
    g_restarting_after_fork = false;
  }
  g_lifecycle.unlock_after_fork();
}

}  // namespace

bool internal::restarting_after_fork() { return g_restarting_after_fork; }

Sdk::Sdk() : state_(std::make_shared<State>()) { state_->stopped = true; }
Sdk::Sdk(std::shared_ptr<State> state) : state_(std::move(state)) {}
Sdk::Sdk(Sdk&&) noexcept = default;
Sdk& Sdk::operator=(Sdk&& other) noexcept {
  if (this != &other) {
    shutdown();
    state_ = std::move(other.state_);
  }
  return *this;
}
Sdk::~Sdk() {
  shutdown();
  // The last handle of a running Sdk, whose shutdown could not get the
  // lifecycle lock by its deadline (a long init or flush elsewhere): the
  // global state must not keep pointing at a destroyed State, so wait for
  // the lock and stop it now, with no time left for delivery.
  if (state_ && !state_->stopped && state_.use_count() == 1) {
    std::lock_guard lock(g_lifecycle);
    stop_locked(*state_, std::chrono::steady_clock::now());
  }
}

bool Sdk::ok() const { return state_ && state_->errors.empty(); }

const std::vector<std::string>& Sdk::errors() const {
  static const std::vector<std::string> none;
  return state_ ? state_->errors : none;
}

std::uint16_t Sdk::admin_port() const { return state_ && !state_->stopped ? state_->admin_port : 0; }

const Resource& Sdk::resource() const {
  static const Resource empty;
  return state_ ? state_->resource : empty;
}

bool Sdk::flush(std::chrono::milliseconds timeout) {
  if (!state_ || state_->stopped) return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(g_lifecycle, std::defer_lock);
  if (!lock.try_lock_until(deadline)) return false;  // another flush, shutdown or fork() took the time
  State& s = *state_;
  if (s.stopped) return true;
  // Every pipeline is asked first and then waited on, so that a stuck
  // backend of one signal does not use up the others' deadline.
  const auto spans = s.span_pipeline ? s.span_pipeline->request_flush(deadline) : 0;
  const auto logs = s.log_pipeline ? s.log_pipeline->request_flush(deadline) : 0;
  const auto metrics = s.metrics ? s.metrics->request_flush(deadline) : 0;
  bool ok = s.span_pipeline ? s.span_pipeline->wait_flushed(spans, deadline) : true;
  ok = (s.log_pipeline ? s.log_pipeline->wait_flushed(logs, deadline) : true) && ok;
  ok = (s.metrics ? s.metrics->wait_flushed(metrics, deadline) : true) && ok;
  return ok && std::chrono::steady_clock::now() <= deadline;
}

void Sdk::shutdown(std::chrono::milliseconds timeout) {
  if (!state_ || state_->stopped) return;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(g_lifecycle, std::defer_lock);
  // Another thread shutting this Sdk down (or flushing it) at the same
  // time: this call waits for it until its own deadline, no longer.
  if (!lock.try_lock_until(deadline)) {
    if (!state_->stopped)
      internal::report_error("shutdown-busy",
                             "Sdk::shutdown gave up at its deadline: another flush, shutdown, init or fork() held the "
                             "SDK that long; nothing was stopped");
    return;
  }
  stop_locked(*state_, deadline);
}

namespace {
void stop_locked(Sdk::State& s, std::chrono::steady_clock::time_point deadline) {
  if (s.stopped) return;
  s.stopped = true;
  internal::route_logs(nullptr);
  internal::span_channel().route(nullptr);
  // Everything is asked to stop first, then waited on with the one
  // deadline; whatever is still stuck in a backend (or, for the admin
  // server, serving a slow client) at the deadline is left to finish on
  // its own thread, which owns what it uses.
  if (s.span_pipeline) s.span_pipeline->request_stop(deadline);
  if (s.log_pipeline) s.log_pipeline->request_stop(deadline);
  if (s.metrics) s.metrics->request_stop(deadline);
  if (s.admin) s.admin->request_stop();
  if (s.span_pipeline) s.span_pipeline->wait_stopped(deadline);
  if (s.log_pipeline) s.log_pipeline->wait_stopped(deadline);
  if (s.metrics) s.metrics->wait_stopped(deadline);
  if (s.admin && !s.admin->wait_stopped(deadline)) {
    internal::report_error("admin-shutdown",
                           "admin server did not stop within the shutdown deadline; a request handler is still busy");
    s.admin.release()->delete_when_stopped();  // its thread still uses it: it frees it when done
  }
  if (s.health_source) internal::remove_health_json_source(s.health_source);
  if (s.owns_global) {
    g_running = nullptr;
    internal::reset_error_reporting(nullptr);  // the handler may capture objects that die with the app
    internal::set_sampler(Config::Sampler::ParentBasedAlwaysOn, 1.0);  // as before any init
    g_active.store(false);
  }
}
}  // namespace

void Sdk::State::start_pipelines(bool in_forked_child) {
  const Config& config = this->config;
  State& s = *this;
  // Logs
  std::vector<std::shared_ptr<LogBackend>> log_backends;
  if (config.console_logs) log_backends.push_back(std::make_shared<ConsoleLogBackend>(config.log_format));
  for (auto& b : config.log_backends)
    if (b) log_backends.push_back(b);
  if (config.otlp_logs) s.add_builtin("OTLP logs", log_backends, [&] { return make_otlp_log_backend(*config.otlp_logs); });
  if (config.otlp_file_logs && !in_forked_child)
    s.add_builtin("OTLP file logs", log_backends, [&] { return make_otlp_file_log_backend(*config.otlp_file_logs); });
  // Datadog's HTTP intakes need the API key; DogStatsD does not. One
  // message for a missing key, whatever it turns off.
  const auto* dd = config.datadog ? &*config.datadog : nullptr;
  const bool dd_key = dd && !dd->api_key.empty();
  if (dd && !dd_key && (dd->logs || dd->metrics == DatadogMetrics::Api))
    s.error(std::string("Datadog is enabled but no API key is set (DD_API_KEY or DATADOG_API_KEY): Datadog ") +
            (dd->logs && dd->metrics == DatadogMetrics::Api ? "logs and metrics are"
             : dd->logs                                     ? "logs are"
                                                            : "metrics are") +
            " not sent; everything else works as usual");
  if (dd && dd_key && dd->logs)
    s.add_builtin("Datadog logs", log_backends, [&] { return make_datadog_log_backend(*dd); });
  if (!in_forked_child) log::set_level(config.log_level);  // a child keeps the level the parent had
  if (!log_backends.empty()) {
    s.log_queue = internal::log_queue(config.log_queue_capacity);
    s.log_pipeline = std::make_unique<internal::LogPipeline>(s.log_queue, s.resource, std::move(log_backends),
                                                             config.log_batch_size);
    s.log_pipeline->start();
    internal::route_logs(s.log_queue.get());
  }

  // Spans
  if (!in_forked_child) internal::set_sampler(config.traces_sampler, config.traces_sampler_ratio);
  std::vector<std::shared_ptr<SpanBackend>> span_backends;
  if (config.console_spans) span_backends.push_back(std::make_shared<ConsoleSpanBackend>(config.log_format));
  for (auto& b : config.span_backends)
    if (b) span_backends.push_back(b);
  if (config.otlp_traces)
    s.add_builtin("OTLP traces", span_backends, [&] { return make_otlp_span_backend(*config.otlp_traces); });
  if (config.otlp_file_traces && !in_forked_child)
    s.add_builtin("OTLP file traces", span_backends,
                  [&] { return make_otlp_file_span_backend(*config.otlp_file_traces); });
  if (!span_backends.empty()) {
    auto queue = internal::span_channel().acquire(config.span_queue_capacity);
    s.span_pipeline = std::make_unique<internal::SpanPipeline>(queue, s.resource, std::move(span_backends),
                                                               config.span_batch_size);
    s.span_pipeline->start();
    internal::span_channel().route(queue.get());
  }

  // Metrics
  std::vector<std::shared_ptr<MetricsBackend>> candidates;
  if (config.prometheus && !in_forked_child) {
    s.prometheus = std::make_shared<PrometheusBackend>(PrometheusOptions{config.prometheus_scope_labels});
    candidates.push_back(s.prometheus);
  }
  for (auto& b : config.metrics_backends)
    if (b) candidates.push_back(b);
  const auto interval = std::max(config.metric_export_interval, std::chrono::milliseconds(1));
  if (config.otlp_metrics)
    s.add_builtin("OTLP metrics", candidates,
                  [&] { return make_otlp_metrics_backend(*config.otlp_metrics, interval); });
  if (config.otlp_file_metrics && !in_forked_child)
    s.add_builtin("OTLP file metrics", candidates,
                  [&] { return make_otlp_file_metrics_backend(*config.otlp_file_metrics, interval); });
  if (dd && dd_key && dd->metrics == DatadogMetrics::Api)
    s.add_builtin("Datadog metrics", candidates, [&] { return make_datadog_metrics_backend(*dd, interval); });
  if (dd && dd->metrics == DatadogMetrics::DogStatsd)
    s.add_builtin("DogStatsD metrics", candidates, [&] { return make_dogstatsd_metrics_backend(*dd, interval); });
  MetricsProducer producer = [] { return MetricsRegistry::global().snapshot(); };
  std::vector<std::shared_ptr<MetricsBackend>> metrics_backends;
  for (auto& b : candidates) {
    try {
      b->attach(s.resource, producer);
      metrics_backends.push_back(b);
    } catch (...) {
      // Not started, so never called again: a half-started backend is the host's problem otherwise.
      s.error("metrics backend '" + std::string(b->name()) + "' failed to start and is not used: " +
              internal::describe(std::current_exception()));
    }
  }
  s.metrics = std::make_unique<MetricsExporter>(std::move(metrics_backends), producer);
  s.metrics->start();
}

void Sdk::State::restart_in_forked_child() {
  // Producers stop using the parent's queues at once: if no pipeline can
  // be started here, their records are counted as dropped rather than
  // piling into a queue nobody reads.
  internal::route_logs(nullptr);
  internal::span_channel().route(nullptr);
  // Leaked on purpose: destroying them would join threads that do not
  // exist, and their queues hold the parent's records, which the parent
  // delivers; the child must not deliver them again.
  (void)log_pipeline.release();
  (void)span_pipeline.release();
  (void)metrics.release();
  log_queue.reset();
  // The parent keeps serving the admin port. The child closes its copy
  // of the listening socket (so the port is free once the parent lets it
  // go) and does not touch the server object again.
  if (admin) {
    admin->abandon_in_forked_child();
    (void)admin.release();
  }
  prometheus.reset();
  resource.pid = static_cast<long>(::getpid());
  if (config.otlp_file_logs || config.otlp_file_traces || config.otlp_file_metrics)
    internal::report_error("fork-otlp-file",
                           "OTLP file export is not restarted in a forked child: two processes cannot share its files "
                           "(pid " + std::to_string(resource.pid) + ")");
  try {
    start_pipelines(/*in_forked_child=*/true);
  } catch (...) {
    error("obs could not restart its pipelines after fork(): " + internal::describe(std::current_exception()));
  }
}

Sdk init(Config given) {
  auto state = std::make_shared<Sdk::State>();
  Sdk::State& s = *state;
  // Kept whole: a forked child rebuilds its pipelines from it.
  s.config = std::move(given);
  const Config& config = s.config;
  s.resource.service =
      config.service_name.empty() ? std::string("unknown_service:") + program_invocation_short_name : config.service_name;
  s.resource.environment = config.environment;
  s.resource.version = config.version;
  s.resource.host = host_name();
  s.resource.pid = static_cast<long>(::getpid());
  s.resource.attributes = config.resource_attributes;

  if (config.disabled) {
    s.stopped = true;
    for (const auto& e : config.errors) s.error(e);
    return Sdk(state);
  }
  // The fork handlers go in before the lock they take, so that a fork
  // during this init waits for it. The metric blocks' own handler must be
  // registered first (touching the counters does it): its prepare then runs
  // after ours, as the SDK nests those locks.
  internal::prepare_drop_counters_for_this_thread();
  static std::once_flag fork_handlers_once;
  std::call_once(fork_handlers_once,
                 [] { ::pthread_atfork(&lock_for_fork, &unlock_after_fork_in_parent, &unlock_after_fork_in_child); });
  std::lock_guard lifecycle(g_lifecycle);
  if (g_active.exchange(true)) {
    s.error("obs::init called while another obs::Sdk is running; shut that one down first. Nothing was started.");
    s.stopped = true;
    return Sdk(state);
  }
  s.owns_global = true;
  // Each run starts with a clean slate: a problem it hits is reported even
  // if an earlier Sdk in this process reported the same one.
  internal::reset_error_reporting(config.error_handler);
  for (const auto& e : config.errors) s.error(e);

  try {
    auto& registry = MetricsRegistry::global();
    registry.set_default_series_limit(config.metric_series_limit);
    static std::once_flag process_metrics_once;
    if (config.process_metrics) std::call_once(process_metrics_once, [&] { internal::add_process_metrics(registry); });
    // Drops are counted without registering or allocating on the
    // application's thread: the series exist from here on (at 0), the
    // pipelines' handles are bound now, and each thread prepares its own
    // words when it first logs or starts a span.
    internal::prepare_drop_counters_for_this_thread();
    internal::log_drop_counters();
    internal::span_drop_counters();
    internal::set_thread_trace_hook(&internal::prepare_drop_counters_for_this_thread);

    s.start_pipelines(/*in_forked_child=*/false);
    auto& prometheus = s.prometheus;

    // /health's document, served by the admin server and by endpoints
    // mounted on the application's own server alike.
    std::weak_ptr<Sdk::State> weak = state;
    s.health_source = std::make_shared<const std::function<std::string()>>([weak] {
      nlohmann::json j;
      j["status"] = "ok";
      if (auto st = weak.lock()) {
        j["service"] = st->resource.service;
        j["version"] = st->resource.version;
        j["environment"] = st->resource.environment;
        j["uptime_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - st->started).count();
      }
      j["sdk"] = {{"name", "obs"}, {"version", OBS_VERSION}};
      return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    });
    internal::set_health_json_source(s.health_source);

    // Admin server
    // Credentials set in code are checked here (those from the environment
    // were checked by from_env, which turned the server off if unusable).
    std::string credential_problem;
    if (config.admin_bearer_token)
      if (auto why = internal::bearer_token_problem(*config.admin_bearer_token); !why.empty())
        credential_problem = "Config::admin_bearer_token " + why;
    if (config.admin_basic_auth && credential_problem.empty())
      if (auto why = internal::basic_auth_problem(*config.admin_basic_auth); !why.empty())
        credential_problem = "Config::admin_basic_auth " + why;
    if (config.admin_server && !credential_problem.empty()) {
      s.error(credential_problem +
              "; the admin server is not started, so that /metrics and /health/ready are not served without a "
              "credential");
    } else if (config.admin_server) {
      internal::AdminServer::Options o;
      o.credentials.bearer_token = config.admin_bearer_token;
      o.credentials.basic_user_password = config.admin_basic_auth;
      o.bind_address = config.admin_bind_address;
      o.port = config.admin_port;
      if (prometheus) {
        o.render_metrics = [prometheus] { return prometheus->render(); };
        o.render_openmetrics = [prometheus] { return prometheus->render_openmetrics(); };
      }
      s.admin = std::make_unique<internal::AdminServer>(std::move(o));
      if (std::string err = s.admin->start(); !err.empty()) {
        s.admin.reset();
        s.error(std::move(err));
      } else {
        s.admin_port = s.admin->port();
      }
    }
  } catch (...) {
    s.error("obs::init failed: " + internal::describe(std::current_exception()));
  }
  g_running = &s;
  return Sdk(state);
}

}  // namespace obs
