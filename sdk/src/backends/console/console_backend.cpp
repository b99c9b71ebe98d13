// Formatting happens here, on the pipeline thread; spdlog only writes the
// finished line ("%v"), so its pattern cannot reintroduce unescaped text.
#include <limits.h>  // PIPE_BUF
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "obs/backends/console.hpp"

namespace obs {

ConsoleLogBackend::ConsoleLogBackend(LogFormat format, Stream stream) : format_(format) {
  // Not registered in spdlog's global registry: the host may use spdlog too.
  // Single-threaded sinks: only the pipeline thread writes through this
  // logger, and stdio's own lock keeps each chunk whole. The _mt sinks take
  // spdlog's process-wide console mutex, which fork() would copy locked
  // into a child whenever a pipeline thread was writing.
  spdlog::sink_ptr sink;
  if (stream == Stream::Stdout) sink = std::make_shared<spdlog::sinks::stdout_sink_st>();
  else sink = std::make_shared<spdlog::sinks::stderr_sink_st>();
  logger_ = std::make_shared<spdlog::logger>("obs.console", std::move(sink));
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::trace);
  logger_->flush_on(spdlog::level::off);
}

ConsoleLogBackend::~ConsoleLogBackend() = default;

void ConsoleLogBackend::write(const LogBatch& batch) {
  // Lines go out in chunks of many records: spdlog's stdout sinks flush
  // after every message, so one message per record was one write(2) per
  // record, which held a file or pipe to about 200 000 records/s. Each chunk
  // is one message of whole lines (the "%v" pattern adds the last newline),
  // at most PIPE_BUF bytes unless one line is longer: a pipe shared with
  // other processes (workers, a container's log pipe) never gets a line
  // split by another writer's.
  constexpr std::size_t kChunkBytes = PIPE_BUF - 1;  // the newline spdlog appends
  text_.clear();
  for (const LogRecord& r : batch.records) {
    line_.clear();
    if (format_ == LogFormat::Json) append_log_json(line_, r, batch.resource);
    else append_log_text(line_, r, batch.resource);
    if (!text_.empty() && text_.size() + 1 + line_.size() > kChunkBytes) {
      logger_->info(std::string_view(text_));
      text_.clear();
    }
    if (!text_.empty()) text_ += '\n';
    text_ += line_;
  }
  if (!text_.empty()) logger_->info(std::string_view(text_));
  logger_->flush();  // once per batch: lines reach the terminal or pipe promptly
}

void ConsoleLogBackend::flush() { logger_->flush(); }

}  // namespace obs
