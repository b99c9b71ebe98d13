#include "obs/detail/cells.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace obs::detail {
namespace {

constexpr std::uint32_t kChunkWords = ThreadCells::kChunkWords;

// Every thread block, the ones waiting for a new thread, and the word ids.
// Never destroyed: threads may update metrics during static destruction.
struct CellBlocks {
  std::mutex mutex;
  std::vector<ThreadCells*> all;
  std::vector<ThreadCells*> idle;  // their threads have exited
  std::uint32_t next_id = 0;
  std::map<std::uint32_t, std::vector<std::uint32_t>> free_ids;  // by word count
};

CellBlocks& blocks() {
  static auto* b = new CellBlocks();
  return *b;
}

// Hands the thread's block to the next thread when this one exits. A metric
// updated later in this thread's exit (from another thread_local's
// destructor) still lands in the block; only if a new thread has adopted it
// meanwhile can such a late update be lost (never corrupt: both use atomics).
struct ThreadBlockLease {
  ThreadCells* cells;
  ThreadBlockLease() {
    CellBlocks& b = blocks();
    std::lock_guard lock(b.mutex);
    if (!b.idle.empty()) {
      cells = b.idle.back();
      b.idle.pop_back();
    } else {
      cells = new ThreadCells{};
      b.all.push_back(cells);
    }
  }
  ~ThreadBlockLease() {
    CellBlocks& b = blocks();
    std::lock_guard lock(b.mutex);
    b.idle.push_back(cells);
  }
  ThreadBlockLease(const ThreadBlockLease&) = delete;
  ThreadBlockLease& operator=(const ThreadBlockLease&) = delete;
};

}  // namespace

ThreadCells* this_thread_cells() {
  static thread_local const ThreadBlockLease lease;
  return lease.cells;
}

CellWord* allocate_thread_chunk(std::uint32_t id) {
  const std::uint32_t chunk = id / kChunkWords;
  if (id >= kSharedCells) return nullptr;
  ThreadCells* cells = this_thread_cells();
  CellWord* words = cells->chunks[chunk].load(std::memory_order_relaxed);
  if (!words) {
    // Aligned so a chunk never shares a cache line with another thread's data.
    words = new (std::align_val_t(64)) CellWord[kChunkWords]();
    // Release: a reader that sees the pointer sees the zeroed words.
    cells->chunks[chunk].store(words, std::memory_order_release);
  }
  return words + id % kChunkWords;
}

std::uint32_t allocate_cells(std::uint32_t n) {
  if (n == 0 || n > kChunkWords) return kSharedCells;
  CellBlocks& b = blocks();
  std::lock_guard lock(b.mutex);
  if (auto it = b.free_ids.find(n); it != b.free_ids.end() && !it->second.empty()) {
    const std::uint32_t id = it->second.back();
    it->second.pop_back();
    return id;
  }
  std::uint32_t id = b.next_id;
  if (id % kChunkWords + n > kChunkWords) id = (id / kChunkWords + 1) * kChunkWords;  // never straddle chunks
  if (id + n > kSharedCells) return kSharedCells;
  b.next_id = id + n;
  return id;
}

void release_cells(std::uint32_t id, std::uint32_t n) {
  if (id >= kSharedCells) return;
  CellBlocks& b = blocks();
  std::lock_guard lock(b.mutex);
  // Zeroed now so the next cell with these ids starts at 0 in every block.
  for (ThreadCells* cells : b.all) {
    if (CellWord* words = cells->chunks[id / kChunkWords].load(std::memory_order_acquire)) {
      for (std::uint32_t i = 0; i < n; ++i) words[id % kChunkWords + i].store(0, std::memory_order_relaxed);
    }
  }
  b.free_ids[n].push_back(id);
}

void for_each_thread_cells(std::uint32_t id, void (*visit)(const CellWord* words, void* context), void* context) {
  if (id >= kSharedCells) return;
  CellBlocks& b = blocks();
  std::lock_guard lock(b.mutex);
  for (const ThreadCells* cells : b.all) {
    if (const CellWord* words = cells->chunks[id / kChunkWords].load(std::memory_order_acquire))
      visit(words + id % kChunkWords, context);
  }
}

}  // namespace obs::detail
