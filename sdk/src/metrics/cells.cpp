#include <algorithm>
#include <atomic>
#include <bit>
#include <thread>

#include "obs/detail/cells.hpp"

namespace obs::detail {

unsigned next_thread_slot() {
  static std::atomic<unsigned> next{0};
  static thread_local const unsigned slot = next.fetch_add(1, std::memory_order_relaxed);
  return slot;
}

unsigned shard_mask() {
  // One shard per core (capped): enough that threads on different cores
  // rarely share a cache line, without multiplying memory per series.
  static const unsigned mask = [] {
    const unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
    return std::bit_ceil(cores) - 1;
  }();
  return mask;
}

}  // namespace obs::detail
