#pragma once
#include "core/bounded_queue.hpp"
#include "obs/log_backend.hpp"

namespace obs::internal {
using LogQueue = BoundedQueue<LogRecord>;
}  // namespace obs::internal
