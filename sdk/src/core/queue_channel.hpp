#pragma once
// Where a facade's records go: the queue of the running SDK, if any. Queues
// are kept for the life of the process (a producer may still hold one
// while the SDK shuts down) and handed to one pipeline at a time.
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "core/bounded_queue.hpp"

namespace obs::internal {

template <class Record>
class QueueChannel {
 public:
  using Queue = BoundedQueue<Record>;

  // An acquired queue of at least `capacity` slots, reused when one is free.
  std::shared_ptr<Queue> acquire(std::size_t capacity) {
    std::lock_guard lock(mutex_);
    for (auto& q : queues_)
      if (q->capacity() >= capacity && q->capacity() < capacity * 2 && q->try_acquire()) return q;
    queues_.push_back(std::make_shared<Queue>(capacity));
    queues_.back()->try_acquire();
    return queues_.back();
  }
  // Routes producers to `queue` (nullptr: they count their records as dropped).
  void route(Queue* queue) { active_.store(queue, std::memory_order_release); }
  Queue* active() const { return active_.load(std::memory_order_acquire); }
  // Held across fork() (see Sdk's fork handlers).
  void lock_for_fork() { mutex_.lock(); }
  void unlock_after_fork() { mutex_.unlock(); }

 private:
  std::atomic<Queue*> active_{nullptr};
  std::mutex mutex_;
  std::vector<std::shared_ptr<Queue>> queues_;
};

}  // namespace obs::internal
