#pragma once
// Console span backend for development: one line per finished span, text
// or JSON (the console log formats' conventions).
#include <memory>
#include <string>

#include "obs/export.hpp"
#include "obs/log_format.hpp"
#include "obs/span_backend.hpp"

namespace spdlog { class logger; }

namespace obs {

class OBS_API ConsoleSpanBackend : public SpanBackend {
 public:
  explicit ConsoleSpanBackend(LogFormat format = LogFormat::Text);
  ~ConsoleSpanBackend() override;
  std::string_view name() const override { return "console"; }
  void write(const SpanBatch& batch) override;
  void flush() override;

 private:
  LogFormat format_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string line_;
};

}  // namespace obs
