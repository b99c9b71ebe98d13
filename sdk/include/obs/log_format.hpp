#pragma once
// The two line formats of the console backend, public so that other
// backends (files, Loki, ...) can reuse them. Neither can be made to emit a
// second line: newlines, quotes and control characters are escaped.
#include <string>

#include "obs/export.hpp"
#include "obs/log_backend.hpp"

namespace obs {

enum class LogFormat { Text, Json };

// 2026-11-22T08:30:19.123456Z INFO  image_svc: User logged in user_id=42 note="a\nb"
OBS_API void append_log_text(std::string& out, const LogRecord& record, const Resource& resource);
// {"time":"2026-11-22T08:30:19.123456Z","severity":"info","message":"User logged in","service":"image_svc",...,
//  "trace_id":"...","span_id":"...","request_id":"...","user_id":42}
// trace_id/span_id appear inside a span, request_id inside a request.
// Fields are top-level keys; one that collides with a reserved key is
// written as "fields.<key>".
OBS_API void append_log_json(std::string& out, const LogRecord& record, const Resource& resource);
// ISO 8601, UTC, microseconds: 2026-11-22T08:30:19.123456Z
OBS_API void append_timestamp(std::string& out, std::chrono::system_clock::time_point time);

}  // namespace obs
