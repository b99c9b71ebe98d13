// Formatting happens here, on the pipeline thread; spdlog only writes the
// finished line ("%v"), so its pattern cannot reintroduce unescaped text.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "obs/backends/console.hpp"

namespace obs {

ConsoleLogBackend::ConsoleLogBackend(LogFormat format, Stream stream) : format_(format) {
  // Not registered in spdlog's global registry: the host may use spdlog too.
  spdlog::sink_ptr sink;
  if (stream == Stream::Stdout) sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  else sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  logger_ = std::make_shared<spdlog::logger>("obs.console", std::move(sink));
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::trace);
  logger_->flush_on(spdlog::level::off);
}

ConsoleLogBackend::~ConsoleLogBackend() = default;

void ConsoleLogBackend::write(const LogBatch& batch) {
  for (const LogRecord& r : batch.records) {
    line_.clear();
    if (format_ == LogFormat::Json) append_log_json(line_, r, batch.resource);
    else append_log_text(line_, r, batch.resource);
    logger_->info(std::string_view(line_));
  }
  logger_->flush();  // once per batch: lines reach the terminal or pipe promptly
}

void ConsoleLogBackend::flush() { logger_->flush(); }

}  // namespace obs
