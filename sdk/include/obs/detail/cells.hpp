#pragma once
// Storage of one series. Every cell is split into per-thread-group shards on
// separate cache lines, so threads updating the same series do not bounce a
// cache line between cores; readers sum the shards on snapshot.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "obs/export.hpp"

namespace obs::detail {

OBS_API unsigned next_thread_slot();  // the calling thread's slot
OBS_API unsigned shard_mask();  // shard count - 1; a power of two

// A small number fixed per thread; cells mask it with their own shard count.
// next_thread_slot() keeps it per thread too, so the copy of this function
// in the application and the one in libobs.so agree.
inline unsigned this_thread_slot() {
  static thread_local const unsigned slot = next_thread_slot();
  return slot;
}

inline void atomic_add(std::atomic<double>& target, double v) {
  double cur = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

class CounterCell {
 public:
  CounterCell() : shards_(new Shard[shard_mask() + 1]), mask_(shard_mask()) {}
  void add(std::uint64_t n) { shards_[this_thread_slot() & mask_].whole.fetch_add(n, std::memory_order_relaxed); }
  void add(double v) { atomic_add(shards_[this_thread_slot() & mask_].fraction, v); }
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

class HistogramCell {
 public:
  // `bounds` (ascending, finite) must outlive the cell: it is owned by the family.
  HistogramCell(const double* bounds, std::size_t n)
      : bounds_(bounds), n_(n), stride_((n + 2 + 7) / 8 * 8), mask_(shard_mask()),
        words_(new(std::align_val_t(64)) std::atomic<std::uint64_t>[stride_ * (mask_ + 1)]()) {}
  HistogramCell(const HistogramCell&) = delete;
  HistogramCell& operator=(const HistogramCell&) = delete;
  ~HistogramCell() { ::operator delete[](words_, std::align_val_t(64)); }

  void observe(double v) {
    if (v != v) return;  // NaN has no bucket; it would also poison the sum
    std::size_t i = bucket_index(v);
    std::atomic<std::uint64_t>* shard = words_ + stride_ * (this_thread_slot() & mask_);
    shard[1 + i].fetch_add(1, std::memory_order_relaxed);
    // word 0 holds the sum's bits; a CAS loop adds to it without a lock
    std::uint64_t cur = shard[0].load(std::memory_order_relaxed);
    while (!shard[0].compare_exchange_weak(
        cur, std::bit_cast<std::uint64_t>(std::bit_cast<double>(cur) + v), std::memory_order_relaxed)) {
    }
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

 private:
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
};

}  // namespace obs::detail
