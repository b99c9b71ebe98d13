#pragma once
// Bounded multi-producer, single-consumer queue of telemetry records
// (Vyukov's bounded queue), shared by the log and span pipelines. Producers
// claim a slot with one CAS and fill the record in place, reusing the
// slot's string capacity; a full queue refuses the record instead of
// waiting, so the application never blocks. The facades never free a queue
// while the process runs, so a producer racing a shutdown cannot touch
// freed memory.
#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

namespace obs::internal {

template <class Record>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity)
      : mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1), slots_(new Slot[mask_ + 1]) {
    for (std::size_t i = 0; i <= mask_; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
  }

  std::size_t capacity() const { return mask_ + 1; }

  // One consumer at a time: a pipeline takes the queue before starting its
  // thread and gives it back when that thread has exited.
  bool try_acquire() { return !in_use_.exchange(true); }
  void release() { in_use_.store(false); }

  enum class Push { Ok, Full, Failed };
  // Calls fill(Record&) on a claimed slot. If fill throws, the slot is
  // still published (marked invalid, skipped by the consumer): a claimed
  // slot that is never published would stop the consumer for good.
  template <class Fill>
  Push try_push(Fill&& fill) {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & mask_];
      const std::size_t seq = slot.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          Push result = Push::Ok;
          try {
            fill(slot.record);
            slot.valid = true;
          } catch (...) {
            slot.valid = false;
            result = Push::Failed;
          }
          slot.sequence.store(pos + 1, std::memory_order_release);
          return result;
        }
      } else if (diff < 0) {
        return Push::Full;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // How many slots producers have claimed so far: every record pushed
  // before a call has a position below its result.
  std::uint64_t claimed() const { return head_.load(std::memory_order_acquire); }

  // Producers: wake the consumer if it sleeps. Only the first producer to
  // see it asleep pays for the wake-up; the rest see false. Taking the
  // mutex orders the wake-up after the consumer's last look at the queue,
  // so it cannot be lost; the consumer holds it only for that look.
  void notify_consumer() {
    if (sleeping_.load() && sleeping_.exchange(false)) {
      std::lock_guard lock(wait_mutex_);
      wake_.notify_one();
    }
  }
  // Control paths (flush, stop): a wake-up that cannot be lost.
  void wake_consumer() {
    std::lock_guard lock(wait_mutex_);
    wake_.notify_one();
  }
  // Consumer only: sleep until pred() holds or the timeout passes.
  template <class Rep, class Period, class Pred>
  void wait(std::chrono::duration<Rep, Period> timeout, Pred pred) {
    std::unique_lock lock(wait_mutex_);
    sleeping_.store(true);  // seq_cst: ordered before pred()'s look at the queue
    wake_.wait_for(lock, timeout, pred);
    sleeping_.store(false);
  }

  // Consumer only: the oldest published record, or nullptr if the next
  // slot is empty or still being filled. `valid` is false for a record
  // whose copy failed.
  Record* front(bool& valid) {
    Slot& slot = slots_[tail_ & mask_];
    if (slot.sequence.load(std::memory_order_acquire) != tail_ + 1) return nullptr;
    valid = slot.valid;
    return &slot.record;
  }
  bool has_front() {
    bool valid;
    return front(valid) != nullptr;
  }
  // Consumer only: releases the slot returned by front().
  void pop() {
    slots_[tail_ & mask_].sequence.store(tail_ + mask_ + 1, std::memory_order_release);
    ++tail_;
  }
  // Consumer only: the position of the next record to consume.
  std::uint64_t position() const { return tail_; }

 private:
  struct Slot {
    std::atomic<std::size_t> sequence;
    bool valid = false;
    Record record;
  };
  const std::size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::size_t tail_ = 0;
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> in_use_{false};
  std::mutex wait_mutex_;
  std::condition_variable wake_;
};

}  // namespace obs::internal
