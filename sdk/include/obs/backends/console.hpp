#pragma once
// Console log backend on spdlog: one line per record, text or JSON lines.
#include <memory>

#include "obs/export.hpp"
#include "obs/log_backend.hpp"
#include "obs/log_format.hpp"

namespace spdlog { class logger; }

namespace obs {

class OBS_API ConsoleLogBackend : public LogBackend {
 public:
  enum class Stream { Stdout, Stderr };
  explicit ConsoleLogBackend(LogFormat format = LogFormat::Text, Stream stream = Stream::Stdout);
  ~ConsoleLogBackend() override;
  std::string_view name() const override { return "console"; }
  void write(const LogBatch& batch) override;
  void flush() override;

 private:
  LogFormat format_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string line_;  // one record, reused
  std::string text_;  // the lines of one chunk, reused
};

}  // namespace obs
