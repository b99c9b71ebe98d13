#pragma once
#include <string>

#include "core/export_pipeline.hpp"
#include "core/queue_channel.hpp"
#include "obs/span_backend.hpp"

namespace obs::internal {

struct SpanTraits {
  using Record = SpanData;
  using Backend = SpanBackend;
  using Batch = SpanBatch;
  static constexpr const char* kSignal = "spans";
  static constexpr const char* kWhat = "span";
  static void release_large_buffers(SpanData& s) {
    for (auto& a : s.attributes)
      if (a.str.capacity() > export_pipeline_detail::kKeepCapacity) std::string().swap(a.str);
    if (s.events.capacity() > 64) std::vector<SpanEvent>().swap(s.events);
  }
};

extern template class ExportPipeline<SpanTraits>;
using SpanPipeline = ExportPipeline<SpanTraits>;
using SpanQueue = BoundedQueue<SpanData>;

QueueChannel<SpanData>& span_channel();  // never destroyed

}  // namespace obs::internal
