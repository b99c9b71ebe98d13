#pragma once
// Where the facade's log calls go: the queue of the running SDK, if any.
#include <cstddef>
#include <memory>

#include "log/log_queue.hpp"
#include "obs/level.hpp"

namespace obs::internal {

// An acquired queue of at least `capacity` slots. Queues are kept for the
// life of the process and reused by later init()s once their previous
// consumer has exited.
std::shared_ptr<LogQueue> log_queue(std::size_t capacity);
// Routes facade calls to `queue` (nullptr: count them as dropped).
void route_logs(LogQueue* queue);

}  // namespace obs::internal
