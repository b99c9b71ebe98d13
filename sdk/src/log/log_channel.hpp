#pragma once
// Where the facade's log calls go: the queue of the running SDK, if any.
#include <cstddef>
#include <memory>

#include "core/queue_channel.hpp"
#include "log/log_queue.hpp"

namespace obs::internal {

QueueChannel<LogRecord>& log_channel();  // never destroyed
inline std::shared_ptr<LogQueue> log_queue(std::size_t capacity) { return log_channel().acquire(capacity); }
inline void route_logs(LogQueue* queue) { log_channel().route(queue); }

}  // namespace obs::internal
