#pragma once
// The trace half of demo_report: reads the OTLP JSON lines files the SDK's
// otlp_file exporter writes (<dir>/traces.jsonl, rotated traces.N.jsonl,
// logs.jsonl, ...; one ExportTraceServiceRequest / ExportLogsServiceRequest
// per line, see sdk/src/backends/otlp/otlp_json.cpp), picks one trace that
// crosses every demo service and renders it as a text waterfall followed by
// its log records.
//
// Reading is line by line (files may be tens of MB); a line that is not a
// JSON object of the expected shape is skipped and counted, a span or log
// record without valid ids is skipped and counted, a missing directory or
// unreadable file is noted. Nothing here throws on bad input.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace demo_report {

// OTLP Span.SpanKind / Status.StatusCode numbers.
enum SpanKindNumber : int { kKindUnspecified = 0, kKindInternal = 1, kKindServer = 2, kKindClient = 3, kKindProducer = 4, kKindConsumer = 5 };
enum StatusCodeNumber : int { kStatusUnset = 0, kStatusOk = 1, kStatusError = 2 };

using Attributes = std::vector<std::pair<std::string, std::string>>;  // values as text

struct Span {
  std::string trace_id;        // 32 lower-case hex digits
  std::string span_id;         // 16 lower-case hex digits
  std::string parent_span_id;  // empty for a root span
  std::string service;         // resource attribute service.name ("" when absent)
  std::string name;
  int kind = kKindUnspecified;
  std::uint64_t start_ns = 0;  // Unix nanoseconds
  std::uint64_t end_ns = 0;
  int status_code = kStatusUnset;
  std::string status_message;
  Attributes attributes;  // kept for error spans only (the waterfall shows them; memory)

  bool is_error() const { return status_code == kStatusError; }
  std::uint64_t duration_ns() const { return end_ns > start_ns ? end_ns - start_ns : 0; }
};

struct LogRecord {
  std::uint64_t time_ns = 0;  // timeUnixNano, else observedTimeUnixNano
  std::string service;
  std::string severity;  // severityText, else derived from severityNumber
  std::string body;
  std::string trace_id;  // lower-case hex, "" when absent
  std::string span_id;
  Attributes attributes;
};

// What reading found, for the report's "read ..." line and for diagnostics.
struct ReadStats {
  std::size_t dirs = 0;
  std::size_t files = 0;
  std::size_t lines = 0;            // non-blank lines parsed
  std::size_t malformed_lines = 0;  // not JSON, or not the expected request shape
  std::size_t skipped_items = 0;    // spans / log records without valid ids
  std::vector<std::string> problems;  // missing directories, unreadable files
};

// One line of traces.jsonl. Appends its spans to out; false when the line is
// malformed (nothing appended). skipped (optional) counts spans left out for
// missing or invalid ids.
bool parse_traces_line(std::string_view line, std::vector<Span>& out, std::size_t* skipped = nullptr);

// One line of logs.jsonl. Appends its records to out, only those of
// only_trace_id when that is not empty; false when the line is malformed.
bool parse_logs_line(std::string_view line, std::vector<LogRecord>& out, std::string_view only_trace_id = {},
                     std::size_t* skipped = nullptr);

// <dir>/<signal>.jsonl and its rotated backups <signal>.N.jsonl, oldest
// (highest N) first. Empty when the directory does not exist.
std::vector<std::filesystem::path> signal_files(const std::filesystem::path& dir, std::string_view signal);

// Every span in the traces files of every directory.
std::vector<Span> read_spans(const std::vector<std::filesystem::path>& dirs, ReadStats& stats);

// The log records of one trace from the logs files of every directory,
// ordered by time. Lines that do not mention the trace id are not parsed
// (a cheap pre-filter for big files), so stats counts only lines that do.
std::vector<LogRecord> read_logs(const std::vector<std::filesystem::path>& dirs, std::string_view trace_id,
                                 ReadStats& stats);

struct PickOptions {
  // A trace is complete when it has spans from every one of these.
  std::vector<std::string> services{"user_svc", "job_svc", "image_svc"};
  // Preferred root: a server span of root_service named root_name.
  std::string root_service = "user_svc";
  std::string root_name = "POST /users/{id}/jobs";
  // When set, that trace is taken (complete or not) and nothing else.
  std::string trace_id;
};

struct Trace {
  std::string trace_id;
  std::vector<Span> spans;      // deduplicated by span id, ordered by start time
  std::vector<std::string> services;  // distinct, in order of first start
  std::string reason;           // why this trace was chosen, one line
  std::size_t traces_seen = 0;  // distinct trace ids read
  std::size_t complete_traces = 0;
};

// Chooses the trace to show: among complete traces, the most recent one
// whose root is the preferred span, that has no error span and whose
// parents are all present; failing that, the best other complete one
// (rooted and intact first, error-free next, then the most recent). nullopt
// when there is none; *why_not then says why in one line.
std::optional<Trace> pick_trace(const std::vector<Span>& spans, const PickOptions& options,
                                std::string* why_not = nullptr);

// One waterfall line: trace.spans[index] at depth (0 = root). A span whose
// parent is not in the trace is an orphan: shown at depth 0 after the root's
// tree.
struct WaterfallRow {
  std::size_t index = 0;
  int depth = 0;
  bool orphan = false;
};

// Depth-first, children ordered by start time (then name).
std::vector<WaterfallRow> waterfall_rows(const std::vector<Span>& spans);

struct RenderOptions {
  int width = 100;     // total columns
  int max_bar = 40;    // the bar never gets wider than this
  int min_bar = 16;    // nor narrower
  bool color = false;
};

// The time origin and scale of the trace: the root's start and duration
// (the earliest start to the latest end when there is no root).
struct Timeline {
  std::uint64_t origin_ns = 0;
  std::uint64_t total_ns = 1;
};
Timeline timeline_of(const Trace& trace);

// "Trace <id> ..." header, the waterfall table and error details.
std::string render_waterfall(const Trace& trace, const RenderOptions& options);

// The trace's log records (already filtered and ordered), one per line:
// offset from the trace start, service, severity, short span id, message.
std::string render_logs(const Trace& trace, const std::vector<LogRecord>& logs, const RenderOptions& options);

// "12.345" (milliseconds, 3 decimals) for a signed nanosecond offset.
std::string format_ms(std::int64_t ns);

}  // namespace demo_report
