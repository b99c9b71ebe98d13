#pragma once
#include <string>

#include "core/export_pipeline.hpp"
#include "log/log_queue.hpp"
#include "obs/log_backend.hpp"

namespace obs::internal {

struct LogTraits {
  using Record = LogRecord;
  using Backend = LogBackend;
  using Batch = LogBatch;
  static constexpr const char* kSignal = "logs";
  static constexpr const char* kWhat = "log";
  // One huge message must not stay resident in a queue slot for good.
  static void release_large_buffers(LogRecord& r) {
    if (r.message.capacity() > export_pipeline_detail::kKeepCapacity) std::string().swap(r.message);
    for (auto& f : r.fields) export_pipeline_detail::release_large_buffers(f);
  }
};

extern template class ExportPipeline<LogTraits>;
using LogPipeline = ExportPipeline<LogTraits>;

}  // namespace obs::internal
