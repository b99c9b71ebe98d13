#pragma once
// In-memory span backend for tests: assert on the spans code produces.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "obs/export.hpp"
#include "obs/span_backend.hpp"

namespace obs {

class OBS_API MemorySpanBackend : public SpanBackend {
 public:
  std::string_view name() const override { return "memory"; }
  void write(const SpanBatch& batch) override;

  std::vector<SpanData> spans() const;
  std::optional<SpanData> find(std::string_view name) const;
  bool wait_for(const std::function<bool(const std::vector<SpanData>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  void clear();

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<SpanData> spans_;
};

}  // namespace obs
