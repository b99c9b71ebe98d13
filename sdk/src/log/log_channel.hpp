#pragma once
// Where the facade's log calls go: the queue of the running SDK, if any.
#include <cstddef>
#include <memory>

#include "core/queue_channel.hpp"
#include "obs/instruments.hpp"
#include "log/log_queue.hpp"

namespace obs::internal {

QueueChannel<LogRecord>& log_channel();  // never destroyed

// obs_exporter_dropped_total's log series, bound at init (sdk.cpp) so the
// first drop neither registers nor allocates on the application's thread.
struct LogDropCounters {
  Counter queue_full;
  Counter not_initialized;
  Counter copy_failed;
};
const LogDropCounters& log_drop_counters();
inline std::shared_ptr<LogQueue> log_queue(std::size_t capacity) { return log_channel().acquire(capacity); }
inline void route_logs(LogQueue* queue) { log_channel().route(queue); }

}  // namespace obs::internal
