#pragma once
// Storage of one series. Every cell is split into per-thread-group shards on
// separate cache lines, so threads updating the same series do not bounce a
// cache line between cores; readers sum the shards on snapshot.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>

#include <sched.h>  // sched_getcpu

#include "obs/export.hpp"
#include "obs/metrics_snapshot.hpp"
#include "obs/trace_context.hpp"

namespace obs::detail {

OBS_API unsigned next_thread_slot();  // the calling thread's slot
OBS_API unsigned shard_mask();  // shard count - 1; a power of two
// The calling thread's current span (the library's thread-local context):
// its address is fixed for the thread's lifetime, only its contents change.
OBS_API const SpanContext* this_thread_span_context();

// Per-thread facts the hot paths need, looked up once per thread and kept in
// the caller's own thread-local storage (one guard check, no call into the
// library). next_thread_slot() keeps the slot per thread too, so the copy of
// this function in the application and the one in libobs.so agree.
struct ThreadState {
  unsigned slot;             // a small number; cells mask it with their own shard count
  const SpanContext* span;   // this thread's current span, for exemplars
};
inline const ThreadState& this_thread_state() {
  static thread_local const ThreadState state{next_thread_slot(), this_thread_span_context()};
  return state;
}
inline unsigned this_thread_slot() { return this_thread_state().slot; }

// The shard an update goes to: the CPU it runs on, so threads running on
// different cores never write the same cache line at the same moment
// (with per-thread slots, two busy threads could share a shard and bounce
// it, depending on how many threads came before). glibc reads the CPU from
// its restartable-sequences area, a load; where that is unknown, the
// thread's slot.
inline unsigned current_shard() {
  const int cpu = sched_getcpu();
  return cpu >= 0 ? static_cast<unsigned>(cpu) : this_thread_slot();
}

inline void atomic_add(std::atomic<double>& target, double v) {
  double cur = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

class CounterCell {
 public:
  CounterCell() : shards_(new Shard[shard_mask() + 1]), mask_(shard_mask()) {}
  void add(std::uint64_t n) { shards_[current_shard() & mask_].whole.fetch_add(n, std::memory_order_relaxed); }
  void add(double v) { atomic_add(shards_[current_shard() & mask_].fraction, v); }
  double value() const {
    std::uint64_t whole = 0;
    double fraction = 0;
    for (unsigned i = 0; i <= mask_; ++i) {
      whole += shards_[i].whole.load(std::memory_order_relaxed);
      fraction += shards_[i].fraction.load(std::memory_order_relaxed);
    }
    return static_cast<double>(whole) + fraction;
  }

 private:
  struct alignas(64) Shard {
    std::atomic<std::uint64_t> whole{0};
    std::atomic<double> fraction{0};
  };
  std::unique_ptr<Shard[]> shards_;
  unsigned mask_;
};

class GaugeCell {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { atomic_add(value_, v); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// The last sampled observation of one bucket, shared by all threads (one
// per bucket, not per shard: only observations inside sampled spans write
// it). A seqlock: a writer makes `seq` odd, stores the fields, makes it even
// again; a reader retries while `seq` is odd or changed under it. Writers
// that find the slot busy drop their exemplar instead of waiting. Every
// field is an atomic (release stores, acquire loads: no fences, which TSan
// cannot model), so there is no data race to report.
struct alignas(64) ExemplarSlot {
  std::atomic<std::uint64_t> seq{0};  // 0: never written; odd: being written
  std::atomic<std::uint64_t> value{0};  // bits of the double
  std::atomic<std::uint64_t> trace_id[2]{};
  std::atomic<std::uint64_t> span_id{0};
  std::atomic<std::int64_t> unix_nanos{0};

  void write(double v, const SpanContext& span, std::int64_t nanos) {
    std::uint64_t s = seq.load(std::memory_order_relaxed);
    if ((s & 1) || !seq.compare_exchange_strong(s, s + 1, std::memory_order_relaxed)) return;  // busy: drop
    std::uint64_t t[2], sp;
    std::memcpy(t, span.trace_id.bytes.data(), sizeof t);
    std::memcpy(&sp, span.span_id.bytes.data(), sizeof sp);
    // Release stores (plain stores on x86): a reader that sees any of them
    // also sees the odd seq before it, so it retries.
    value.store(std::bit_cast<std::uint64_t>(v), std::memory_order_release);
    trace_id[0].store(t[0], std::memory_order_release);
    trace_id[1].store(t[1], std::memory_order_release);
    span_id.store(sp, std::memory_order_release);
    unix_nanos.store(nanos, std::memory_order_release);
    seq.store(s + 2, std::memory_order_release);
  }

  std::optional<Exemplar> read() const {
    for (int attempt = 0; attempt < 64; ++attempt) {
      const std::uint64_t s1 = seq.load(std::memory_order_acquire);
      if (s1 == 0) return std::nullopt;
      if (s1 & 1) continue;
      // Acquire loads: seq is re-read after the fields, and sees the odd
      // value of any writer whose fields were read.
      const std::uint64_t v = value.load(std::memory_order_acquire);
      const std::uint64_t t[2] = {trace_id[0].load(std::memory_order_acquire),
                                  trace_id[1].load(std::memory_order_acquire)};
      const std::uint64_t sp = span_id.load(std::memory_order_acquire);
      const std::int64_t nanos = unix_nanos.load(std::memory_order_acquire);
      if (seq.load(std::memory_order_relaxed) != s1) continue;
      Exemplar e;
      e.value = std::bit_cast<double>(v);
      std::memcpy(e.trace_id.bytes.data(), t, sizeof t);
      std::memcpy(e.span_id.bytes.data(), &sp, sizeof sp);
      e.time = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(nanos)));
      return e;
    }
    return std::nullopt;  // written continuously while we read: skip it this time
  }
};

class HistogramCell {
 public:
  // `bounds` (ascending, finite) must outlive the cell: it is owned by the family.
  HistogramCell(const double* bounds, std::size_t n)
      : bounds_(bounds), n_(n), stride_((n + 2 + 7) / 8 * 8), mask_(shard_mask()),
        words_(new(std::align_val_t(64)) std::atomic<std::uint64_t>[stride_ * (mask_ + 1)]()),
        exemplars_(new ExemplarSlot[n + 1]) {}
  HistogramCell(const HistogramCell&) = delete;
  HistogramCell& operator=(const HistogramCell&) = delete;
  ~HistogramCell() { ::operator delete[](words_, std::align_val_t(64)); }

  void observe(double v) {
    if (v != v) return;  // NaN has no bucket; it would also poison the sum
    std::size_t i = bucket_index(v);
    const ThreadState& thread = this_thread_state();
    std::atomic<std::uint64_t>* shard = words_ + stride_ * (current_shard() & mask_);
    shard[1 + i].fetch_add(1, std::memory_order_relaxed);
    // word 0 holds the sum's bits; a CAS loop adds to it without a lock
    std::uint64_t cur = shard[0].load(std::memory_order_relaxed);
    while (!shard[0].compare_exchange_weak(
        cur, std::bit_cast<std::uint64_t>(std::bit_cast<double>(cur) + v), std::memory_order_relaxed)) {
    }
    // Outside a sampled span this is one load and a branch.
    if (thread.span->sampled) [[unlikely]]
      record_exemplar(i, v, *thread.span);
  }

  std::size_t bucket_count() const { return n_ + 1; }
  // Adds per-bucket counts (n+1 entries) and the sum into the outputs.
  void read(std::uint64_t* counts, double& sum) const {
    for (unsigned s = 0; s <= mask_; ++s) {
      const std::atomic<std::uint64_t>* shard = words_ + stride_ * s;
      sum += std::bit_cast<double>(shard[0].load(std::memory_order_relaxed));
      for (std::size_t i = 0; i <= n_; ++i) counts[i] += shard[1 + i].load(std::memory_order_relaxed);
    }
  }
  // The last sampled observation of bucket `i` (< bucket_count()), if any.
  std::optional<Exemplar> exemplar(std::size_t i) const { return exemplars_[i].read(); }

 private:
  [[gnu::noinline, gnu::cold]] void record_exemplar(std::size_t i, double v, const SpanContext& span) {
    if (!span.valid()) return;
    const auto nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
    exemplars_[i].write(v, span, static_cast<std::int64_t>(nanos.count()));
  }

  std::size_t bucket_index(double v) const {
    if (n_ <= 16) {  // linear scan beats binary search for the usual bucket counts
      std::size_t i = 0;
      while (i < n_ && v > bounds_[i]) ++i;
      return i;
    }
    return static_cast<std::size_t>(std::lower_bound(bounds_, bounds_ + n_, v) - bounds_);
  }

  const double* bounds_;
  std::size_t n_;
  std::size_t stride_;
  unsigned mask_;
  std::atomic<std::uint64_t>* words_;
  std::unique_ptr<ExemplarSlot[]> exemplars_;
};

}  // namespace obs::detail
