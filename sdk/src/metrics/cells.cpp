#include "obs/detail/cells.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include <pthread.h>

namespace obs::detail {
namespace {

constexpr std::uint32_t kChunkWords = ThreadCells::kChunkWords;

// Every thread block, the ones waiting for a new thread, and the word ids.
// Never destroyed: threads may update metrics during static destruction.
struct CellBlocks {
  std::mutex mutex;
  pthread_key_t exit_key{};
  bool exit_key_valid = true;
  std::vector<ThreadCells*> all;
  std::vector<ThreadCells*> idle;  // their threads have exited
  std::uint32_t next_id = 0;
  std::map<std::uint32_t, std::vector<std::uint32_t>> free_ids;  // by word count
};

// A block with no chunks, for a thread whose own block could not be
// allocated: its updates take the shared words of each cell instead.
ThreadCells g_no_block{};

void return_block(void* cells);

CellBlocks* g_blocks = nullptr;  // set once, by blocks()
void lock_blocks() { g_blocks->mutex.lock(); }
void unlock_blocks() { g_blocks->mutex.unlock(); }

CellBlocks& blocks() {
  static auto* b = [] {
    g_blocks = new CellBlocks();
    // fork() while another thread holds the mutex (a scrape reading the
    // words, a new thread taking a block) would leave it locked forever in
    // the child: it is held across the fork.
    ::pthread_atfork(&lock_blocks, &unlock_blocks, &unlock_blocks);
    if (::pthread_key_create(&g_blocks->exit_key, &return_block) != 0) g_blocks->exit_key_valid = false;
    return g_blocks;
  }();
  return *b;
}

// Takes a block for the calling thread: an idle one, or a new one.
ThreadCells* take_block() noexcept {
  CellBlocks& b = blocks();
  std::lock_guard lock(b.mutex);
  ThreadCells* cells = nullptr;
  if (!b.idle.empty()) {
    cells = b.idle.back();
    b.idle.pop_back();
  } else {
    cells = new (std::nothrow) ThreadCells{};
    if (!cells) return &g_no_block;
    try {
      b.all.push_back(cells);
    } catch (...) {
      delete cells;
      return &g_no_block;
    }
  }
  // Given back when the thread exits, by a pthread key's destructor: glibc
  // runs those after every C++ thread_local destructor, so no late update
  // of this thread (from such a destructor) can land in a block another
  // thread has taken. The main thread's block is never given back (exit()
  // runs no key destructors), which is right: static destructors may
  // still update metrics from it.
  if (b.exit_key_valid) ::pthread_setspecific(b.exit_key, cells);
  return cells;
}

void return_block(void* cells) {
  CellBlocks& b = blocks();
  std::lock_guard lock(b.mutex);
  try {
    b.idle.push_back(static_cast<ThreadCells*>(cells));
  } catch (...) {
    // Out of memory: the block stays out of circulation.
  }
}

}  // namespace

ThreadCells* this_thread_cells() {
  static thread_local ThreadCells* const cells = take_block();
  return cells;
}

CellWord* allocate_thread_chunk(std::uint32_t id) {
  const std::uint32_t chunk = id / kChunkWords;
  if (id >= kSharedCells) return nullptr;
  ThreadCells* cells = this_thread_cells();
  if (cells == &g_no_block) return nullptr;
  CellWord* words = cells->chunks[chunk].load(std::memory_order_relaxed);
  if (!words) {
    // Aligned so a chunk never shares a cache line with another thread's
    // data; on failure the update takes the cell's shared words.
    words = new (std::align_val_t(64), std::nothrow) CellWord[kChunkWords]();
    if (!words) return nullptr;
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
