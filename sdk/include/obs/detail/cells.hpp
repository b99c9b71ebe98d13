#pragma once
// Storage of one series. Counters and histograms keep their numbers in
// per-thread blocks (Envoy's model): each thread adds to words only it
// writes, with a plain load and store instead of a locked read-modify-write,
// and a reader (a scrape, an export) sums the words of every thread block.
// Nothing is shared between writers, so two threads on one series cost what
// one does, and the hot path takes no lock.
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
#include <type_traits>

#include "obs/export.hpp"
#include "obs/metrics_snapshot.hpp"
#include "obs/trace_context.hpp"

namespace obs::detail {

using CellWord = std::atomic<std::uint64_t>;

// One thread's words: a table of lazily allocated chunks, indexed by a
// cell's word id. Blocks are never freed: when a thread exits, its block
// (and the sums in it) passes to the next thread that starts, so memory is
// bounded by the most threads alive at once.
struct ThreadCells {
  static constexpr std::uint32_t kChunkWords = 1024;  // 8 KiB
  static constexpr std::uint32_t kChunks = 2048;
  std::atomic<CellWord*> chunks[kChunks];
};
// Ids in the last chunk are never allocated; a cell gets this one when the
// id space is used up, and then keeps its words shared (atomic adds).
inline constexpr std::uint32_t kSharedCells = ThreadCells::kChunkWords * (ThreadCells::kChunks - 1);

// `n` consecutive words in one chunk (n <= kChunkWords), or kSharedCells.
OBS_API std::uint32_t allocate_cells(std::uint32_t n);
// Zeroes the words in every thread block and makes the ids reusable. Only
// for a cell nobody updates any more.
OBS_API void release_cells(std::uint32_t id, std::uint32_t n);
// Calls visit(words, context) with the address of word `id` in each thread
// block that has it (under the blocks' lock, so none is added meanwhile).
OBS_API void for_each_thread_cells(std::uint32_t id, void (*visit)(const CellWord* words, void* context),
                                   void* context);
// The calling thread's block, and its word `id` after allocating its chunk
// (nullptr for kSharedCells).
OBS_API ThreadCells* this_thread_cells();
OBS_API CellWord* allocate_thread_chunk(std::uint32_t id);

// The calling thread's current span (the library's thread-local context):
// its address is fixed for the thread's lifetime, only its contents change.
OBS_API const SpanContext* this_thread_span_context();

// Per-thread facts the hot paths need, looked up once per thread and kept in
// the caller's own thread-local storage (one guard check, no call into the
// library). The library keeps one block per thread, so the copy of this
// function in the application and the one in libobs.so agree.
struct ThreadState {
  ThreadCells* cells;        // this thread's words
  const SpanContext* span;   // this thread's current span, for exemplars
};
inline const ThreadState& this_thread_state() {
  static thread_local const ThreadState state{this_thread_cells(), this_thread_span_context()};
  return state;
}

// The calling thread's word `id`, or nullptr before its chunk exists.
inline CellWord* this_thread_words(std::uint32_t id) {
  // Relaxed: only this thread stores its own chunk pointers.
  CellWord* chunk = this_thread_state().cells->chunks[id / ThreadCells::kChunkWords].load(std::memory_order_relaxed);
  return chunk ? chunk + id % ThreadCells::kChunkWords : nullptr;
}

// An add to a word only this thread writes: no lock prefix. Readers on
// other threads load it atomically and see the old or the new value.
inline void add_owned(CellWord& word, std::uint64_t n) {
  word.store(word.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void add_owned(CellWord& word, double v) {
  word.store(std::bit_cast<std::uint64_t>(std::bit_cast<double>(word.load(std::memory_order_relaxed)) + v),
             std::memory_order_relaxed);
}

inline void atomic_add(std::atomic<double>& target, double v) {
  double cur = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}
// The same for a word holding a double's bits.
inline void atomic_add_bits(CellWord& target, double v) {
  std::uint64_t cur = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(cur, std::bit_cast<std::uint64_t>(std::bit_cast<double>(cur) + v),
                                       std::memory_order_relaxed)) {
  }
}

class CounterCell {
 public:
  CounterCell() : id_(allocate_cells(2)) {}
  CounterCell(const CounterCell&) = delete;
  CounterCell& operator=(const CounterCell&) = delete;
  ~CounterCell() { release_cells(id_, 2); }

  // Word 0 counts whole increments, word 1 holds the bits of a double for
  // fractional amounts.
  void add(std::uint64_t n) {
    if (CellWord* w = this_thread_words(id_)) [[likely]]
      add_owned(w[0], n);
    else
      add_slow(n);
  }
  void add(double v) {
    if (CellWord* w = this_thread_words(id_)) [[likely]]
      add_owned(w[1], v);
    else
      add_slow(v);
  }
  // The whole increments (modulo 2^64: an up-down counter adds negative
  // ones as their two's complement, so the sum read as signed is exact) and
  // the sum of the fractional amounts.
  struct Sum {
    std::uint64_t whole;
    double fraction;
  };
  Sum read() const {
    Sum sum{shared_whole_.load(std::memory_order_relaxed),
            std::bit_cast<double>(shared_fraction_.load(std::memory_order_relaxed))};
    for_each_thread_cells(
        id_,
        [](const CellWord* w, void* context) {
          auto* s = static_cast<Sum*>(context);
          s->whole += w[0].load(std::memory_order_relaxed);
          s->fraction += std::bit_cast<double>(w[1].load(std::memory_order_relaxed));
        },
        &sum);
    return sum;
  }
  double value() const {
    const Sum sum = read();
    return static_cast<double>(sum.whole) + sum.fraction;
  }
  double signed_value() const {
    const Sum sum = read();
    return static_cast<double>(static_cast<std::int64_t>(sum.whole)) + sum.fraction;
  }

 private:
  // First update on this thread in this chunk, or no ids left.
  template <class T>
  [[gnu::noinline]] void add_slow(T n) {
    if (CellWord* w = allocate_thread_chunk(id_)) {
      if constexpr (std::is_same_v<T, double>) add_owned(w[1], n);
      else add_owned(w[0], n);
    } else if constexpr (std::is_same_v<T, double>) {
      atomic_add_bits(shared_fraction_, n);
    } else {
      shared_whole_.fetch_add(n, std::memory_order_relaxed);
    }
  }

  std::uint32_t id_;
  CellWord shared_whole_{0};
  CellWord shared_fraction_{0};  // bits of a double
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
      : bounds_(bounds), n_(n), words_count_(static_cast<std::uint32_t>(n + 4)), id_(allocate_cells(words_count_)),
        shared_(id_ == kSharedCells ? new CellWord[words_count_]() : nullptr), exemplars_(new ExemplarSlot[n + 1]) {}
  HistogramCell(const HistogramCell&) = delete;
  HistogramCell& operator=(const HistogramCell&) = delete;
  ~HistogramCell() { release_cells(id_, words_count_); }

  // Word 0 holds the sum's bits, word 1 + i the count of bucket i, then
  // the smallest and the largest observation as order keys (below).
  void observe(double v) {
    // NaN has no bucket and is dropped. An infinity has one (the first or
    // the last) and counts, but stays out of the sum, which +Inf and -Inf
    // together would make NaN: the sum is that of the finite observations.
    // One compare for finite values: v - v is 0 for them, NaN otherwise.
    const double sum_part = v - v == 0 ? v : 0.0;
    if (v != v) return;
    const std::size_t i = bucket_index(v);
    if (CellWord* w = this_thread_words(id_)) [[likely]] {
      add_owned(w[1 + i], std::uint64_t{1});
      add_owned(w[0], sum_part);
      const std::uint64_t key = order_key(v);
      raise_owned(w[n_ + 2], ~key);  // min: the largest complement
      raise_owned(w[n_ + 3], key);
    } else {
      observe_slow(i, v);
    }
    // Outside a sampled span this is one load and a branch.
    const SpanContext& span = *this_thread_state().span;
    if (span.sampled) [[unlikely]]
      record_exemplar(i, v, span);
  }

  std::size_t bucket_count() const { return n_ + 1; }
  // Adds per-bucket counts (n+1 entries) and the sum into the outputs, and
  // sets min and max when anything was observed.
  void read(std::uint64_t* counts, double& sum, std::optional<double>& min, std::optional<double>& max) const {
    Totals totals{counts, &sum, n_, 0, 0};
    if (shared_) add_words(shared_.get(), &totals);
    for_each_thread_cells(id_, &add_words, &totals);
    if (totals.max_key != 0) max = from_order_key(totals.max_key);
    if (totals.min_key != 0) min = from_order_key(~totals.min_key);
  }
  void read(std::uint64_t* counts, double& sum) const {
    std::optional<double> min, max;
    read(counts, sum, min, max);
  }
  // The last sampled observation of bucket `i` (< bucket_count()), if any.
  std::optional<Exemplar> exemplar(std::size_t i) const { return exemplars_[i].read(); }

 private:
  struct Totals {
    std::uint64_t* counts;
    double* sum;
    std::size_t n;
    std::uint64_t min_key;
    std::uint64_t max_key;
  };
  static void add_words(const CellWord* w, void* context) {
    auto* t = static_cast<Totals*>(context);
    *t->sum += std::bit_cast<double>(w[0].load(std::memory_order_relaxed));
    for (std::size_t i = 0; i <= t->n; ++i) t->counts[i] += w[1 + i].load(std::memory_order_relaxed);
    t->min_key = std::max(t->min_key, w[t->n + 2].load(std::memory_order_relaxed));
    t->max_key = std::max(t->max_key, w[t->n + 3].load(std::memory_order_relaxed));
  }

  // A double's bits mapped so that unsigned order is numeric order; never 0
  // (nor its complement all ones) for a number, so 0 means "nothing yet".
  static std::uint64_t order_key(double v) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    return (bits >> 63) ? ~bits : bits ^ (std::uint64_t{1} << 63);
  }
  static double from_order_key(std::uint64_t key) {
    return std::bit_cast<double>((key >> 63) ? key ^ (std::uint64_t{1} << 63) : ~key);
  }
  // Only this thread writes the word: a plain load and, rarely, a store.
  static void raise_owned(CellWord& word, std::uint64_t key) {
    if (key > word.load(std::memory_order_relaxed)) word.store(key, std::memory_order_relaxed);
  }
  static void raise_atomic(CellWord& word, std::uint64_t key) {
    std::uint64_t cur = word.load(std::memory_order_relaxed);
    while (key > cur && !word.compare_exchange_weak(cur, key, std::memory_order_relaxed)) {
    }
  }

  [[gnu::noinline]] void observe_slow(std::size_t i, double v) {
    const std::uint64_t key = order_key(v);
    const double sum_part = v - v == 0 ? v : 0.0;  // as in observe()
    if (CellWord* w = allocate_thread_chunk(id_)) {
      add_owned(w[1 + i], std::uint64_t{1});
      add_owned(w[0], sum_part);
      raise_owned(w[n_ + 2], ~key);
      raise_owned(w[n_ + 3], key);
    } else if (shared_) {
      shared_[1 + i].fetch_add(1, std::memory_order_relaxed);
      atomic_add_bits(shared_[0], sum_part);
      raise_atomic(shared_[n_ + 2], ~key);
      raise_atomic(shared_[n_ + 3], key);
    }  // else: out of memory for this thread's words; the observation is lost
  }

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
  std::uint32_t words_count_;
  std::uint32_t id_;
  std::unique_ptr<CellWord[]> shared_;  // only when the id space is used up
  std::unique_ptr<ExemplarSlot[]> exemplars_;
};

}  // namespace obs::detail
