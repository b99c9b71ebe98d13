#pragma once
#include <string>

#include "core/export_pipeline.hpp"
#include "core/queue_channel.hpp"
#include "obs/instruments.hpp"
#include "obs/span_backend.hpp"

namespace obs::internal {

struct SpanTraits {
  using Record = SpanData;
  using Backend = SpanBackend;
  using Batch = SpanBatch;
  static constexpr const char* kSignal = "spans";
  static constexpr const char* kWhat = "span";
  // Gives `slot` (spare buffers a producer gets back) room for a span
  // shaped like `taken`, the one just taken from the queue.
  static void warm_slot(SpanData& slot, const SpanData& taken) {
    constexpr auto keep = export_pipeline_detail::kKeepCapacity;
    auto room = [](std::string& str, std::size_t size) {
      if (str.capacity() < size && size <= keep) str.reserve(size);
    };
    room(slot.name, taken.name.size());
    if (slot.attributes.size() < taken.attributes.size()) slot.attributes.resize(taken.attributes.size());
    for (std::size_t i = 0; i < taken.attributes.size(); ++i) {
      room(slot.attributes[i].key, taken.attributes[i].key.size());
      room(slot.attributes[i].str, taken.attributes[i].str.size());
    }
  }
  static void release_large_buffers(SpanData& s) {
    constexpr auto keep = export_pipeline_detail::kKeepCapacity;
    auto shrink = [](std::string& str) {
      if (str.capacity() > keep) std::string().swap(str);
    };
    for (auto& a : s.attributes) export_pipeline_detail::release_large_buffers(a);
    shrink(s.name);
    shrink(s.context.trace_state);
    shrink(s.status_message);
    if (s.events.capacity() > 16) {
      std::vector<SpanEvent>().swap(s.events);
    } else {
      for (auto& e : s.events) {
        shrink(e.name);
        for (auto& a : e.attributes) export_pipeline_detail::release_large_buffers(a);
      }
    }
    if (s.links.capacity() > 16) {
      std::vector<SpanLink>().swap(s.links);
    } else {
      for (auto& l : s.links) {
        shrink(l.context.trace_state);
        for (auto& a : l.attributes) export_pipeline_detail::release_large_buffers(a);
      }
    }
  }
};

extern template class ExportPipeline<SpanTraits>;
using SpanPipeline = ExportPipeline<SpanTraits>;
using SpanQueue = BoundedQueue<SpanData>;

QueueChannel<SpanData>& span_channel();  // never destroyed

// obs_exporter_dropped_total's span series, bound at init (sdk.cpp) so the
// first drop neither registers nor allocates on the application's thread.
struct SpanDropCounters {
  Counter queue_full;
  Counter not_initialized;
  Counter copy_failed;
};
const SpanDropCounters& span_drop_counters();

}  // namespace obs::internal
