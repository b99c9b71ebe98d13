// One line per span. Attribute values go through the log formats' field
// rendering, so a hostile attribute cannot break the line either.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "obs/backends/console_span.hpp"

namespace obs {

ConsoleSpanBackend::ConsoleSpanBackend(LogFormat format) : format_(format) {
  // Single-threaded sink, as in console_backend.cpp (fork safety).
  logger_ = std::make_shared<spdlog::logger>("obs.console.spans", std::make_shared<spdlog::sinks::stdout_sink_st>());
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::trace);
}

ConsoleSpanBackend::~ConsoleSpanBackend() = default;

void ConsoleSpanBackend::write(const SpanBatch& batch) {
  for (const SpanData& s : batch.spans) {
    // Render as a log record: the message is the span name, the rest fields.
    LogRecord r;
    r.time = s.end;
    r.level = s.status == SpanStatus::Error ? log::Level::Error : log::Level::Info;
    r.message = "span " + s.name;
    r.trace_id = s.context.trace_id;
    r.span_id = s.context.span_id;
    auto add = [&r](const Field& f) { r.fields.emplace_back().assign(f); };
    if (s.parent_span_id.valid()) add(Field("parent_span_id", s.parent_span_id.hex()));
    add(Field("kind", to_string(s.kind)));
    add(Field("duration_ms", std::chrono::duration<double, std::milli>(s.end - s.start).count()));
    add(Field("status", to_string(s.status)));
    if (!s.status_message.empty()) add(Field("status_message", s.status_message));
    for (const auto& a : s.attributes) r.fields.push_back(a);
    for (const auto& e : s.events) add(Field("event", e.name));
    if (!s.links.empty()) add(Field("links", s.links.size()));  // a count: the linked ids would swamp the line
    line_.clear();
    if (format_ == LogFormat::Json) append_log_json(line_, r, batch.resource);
    else append_log_text(line_, r, batch.resource);
    logger_->info(std::string_view(line_));
  }
  logger_->flush();
}

void ConsoleSpanBackend::flush() { logger_->flush(); }

}  // namespace obs
