#pragma once
// The interface a log destination implements. Backends run on the log
// pipeline's background thread only: write() is never called concurrently
// and never from an application thread.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "obs/fields.hpp"
#include "obs/level.hpp"
#include "obs/resource.hpp"
#include "obs/trace_context.hpp"

namespace obs {

struct LogRecord {
  std::chrono::system_clock::time_point time;
  log::Level level = log::Level::Info;
  std::string message;
  std::vector<OwnedField> fields;
  std::uint64_t thread_id = 0;
  // The span and request current when the record was logged (invalid ids
  // and an empty request id outside any).
  TraceId trace_id;
  SpanId span_id;
  std::uint8_t trace_flags = 0;  // that span's W3C trace flags: 0x01 sampled, 0x02 random trace id
  std::string request_id;
};

struct LogBatch {
  const Resource& resource;
  std::span<const LogRecord> records;
};

class LogBackend {
 public:
  virtual ~LogBackend() = default;
  // Short, stable name used in self-metrics and error messages ("console").
  virtual std::string_view name() const = 0;
  // Deliver a batch. May throw: the pipeline catches, reports and counts the
  // batch as failed; the host application never sees the exception.
  virtual void write(const LogBatch& batch) = 0;
  // Push out anything buffered. Called on flush and before shutdown.
  virtual void flush() {}
  // Release resources; no write() follows.
  virtual void shutdown() {}
};

}  // namespace obs
