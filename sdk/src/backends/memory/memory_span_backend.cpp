#include <algorithm>

#include "obs/backends/memory_span.hpp"

namespace obs {

void MemorySpanBackend::write(const SpanBatch& batch) {
  std::lock_guard lock(mutex_);
  spans_.insert(spans_.end(), batch.spans.begin(), batch.spans.end());
  changed_.notify_all();
}

std::vector<SpanData> MemorySpanBackend::spans() const {
  std::lock_guard lock(mutex_);
  return spans_;
}

std::optional<SpanData> MemorySpanBackend::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(spans_.begin(), spans_.end(), [&](const SpanData& s) { return s.name == name; });
  if (it == spans_.end()) return std::nullopt;
  return *it;
}

bool MemorySpanBackend::wait_for(const std::function<bool(const std::vector<SpanData>&)>& pred,
                                 std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pred(spans_); });
}

void MemorySpanBackend::clear() {
  std::lock_guard lock(mutex_);
  spans_.clear();
}

}  // namespace obs
