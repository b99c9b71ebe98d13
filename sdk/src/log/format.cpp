// Line formats. Both escape every byte below 0x20 and DEL, so no message or
// field can start a new line (or a terminal escape sequence) in the output.
#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

#include "obs/log_format.hpp"

namespace obs {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_hex_escape(std::string& out, unsigned char c, bool json) {
  out += json ? "\\u00" : "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

// Length of a valid UTF-8 sequence starting at s[i], or 0 if invalid.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; }
  else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; }
  else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Reject overlong forms, surrogates and values past U+10FFFF.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

// JSON string body: quotes, backslashes and control characters escaped;
// invalid UTF-8 replaced by U+FFFD so the line stays valid JSON.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c == '\n') { out += "\\n"; ++i; }
    else if (c == '\r') { out += "\\r"; ++i; }
    else if (c == '\t') { out += "\\t"; ++i; }
    else if (c < 0x20 || c == 0x7f) { append_hex_escape(out, c, true); ++i; }
    else if (c < 0x80) { out += static_cast<char>(c); ++i; }
    else {
      const std::size_t n = utf8_length(s, i);
      if (n == 0) {
        out += "\xef\xbf\xbd";
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
    }
  }
  out += '"';
}

// Text: printable bytes as they are, the rest escaped C-style.
void append_text_escaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20 || c == 0x7f) append_hex_escape(out, c, false);
    else out += static_cast<char>(c);
  }
}

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (unsigned char c : s)
    if (c <= 0x20 || c == '"' || c == '=' || c == 0x7f || c == '\\') return true;
  return false;
}

void append_text_value(std::string& out, std::string_view s) {
  if (!needs_quotes(s)) {
    out.append(s);
    return;
  }
  out += '"';
  for (unsigned char c : s) {
    if (c == '"') out += "\\\"";
    else append_text_escaped(out, std::string_view(reinterpret_cast<const char*>(&c), 1));
  }
  out += '"';
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void append_double(std::string& out, double v, bool json) {
  if (!std::isfinite(v)) {
    // JSON has no NaN/Infinity literals: write them as strings.
    const char* s = std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
    if (json) {
      out += '"';
      out += s;
      out += '"';
    } else {
      out += s;
    }
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

template <class Values, class AppendOne>
void append_array(std::string& out, const Values& values, AppendOne append_one) {
  out += '[';
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    append_one(v);
  }
  out += ']';
}

void append_field_value(std::string& out, const OwnedField& f, bool json) {
  switch (f.type) {
    case FieldType::String:
      if (json) append_json_string(out, f.str);
      else append_text_value(out, f.str);
      break;
    case FieldType::Int: append_int(out, f.i); break;
    case FieldType::Double: append_double(out, f.d, json); break;
    case FieldType::Bool: out += f.b ? "true" : "false"; break;
    // Arrays are written as JSON arrays in both formats: a comma inside a
    // string element cannot be mistaken for a separator.
    case FieldType::StringArray: append_array(out, f.strings, [&](const std::string& v) { append_json_string(out, v); }); break;
    case FieldType::IntArray: append_array(out, f.ints, [&](std::int64_t v) { append_int(out, v); }); break;
    case FieldType::DoubleArray: append_array(out, f.doubles, [&](double v) { append_double(out, v, true); }); break;
    case FieldType::BoolArray: append_array(out, f.bools, [&](bool v) { out += v ? "true" : "false"; }); break;
  }
}

bool reserved_json_key(std::string_view k) {
  return k == "time" || k == "severity" || k == "message" || k == "service" || k == "environment" ||
         k == "version" || k == "host" || k == "pid" || k == "thread" || k == "trace_id" || k == "span_id" ||
         k == "request_id";
}

void append_padded(std::string& out, unsigned v, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

}  // namespace

void append_timestamp(std::string& out, std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(time.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  long frac = static_cast<long>(us % 1000000);
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  append_padded(out, static_cast<unsigned>(tm.tm_year + 1900), 4);
  out += '-';
  append_padded(out, static_cast<unsigned>(tm.tm_mon + 1), 2);
  out += '-';
  append_padded(out, static_cast<unsigned>(tm.tm_mday), 2);
  out += 'T';
  append_padded(out, static_cast<unsigned>(tm.tm_hour), 2);
  out += ':';
  append_padded(out, static_cast<unsigned>(tm.tm_min), 2);
  out += ':';
  append_padded(out, static_cast<unsigned>(tm.tm_sec), 2);
  out += '.';
  append_padded(out, static_cast<unsigned>(frac), 6);
  out += 'Z';
}

void append_log_text(std::string& out, const LogRecord& r, const Resource& res) {
  static constexpr const char* kLevel[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR", "CRIT ", "OFF  "};
  append_timestamp(out, r.time);
  out += ' ';
  out += kLevel[static_cast<int>(r.level) % 7];
  out += ' ';
  append_text_escaped(out, res.service);
  out += ": ";
  append_text_escaped(out, r.message);
  if (r.trace_id.valid()) {
    out += " trace_id=";
    out += r.trace_id.hex();
    out += " span_id=";
    out += r.span_id.hex();
  }
  if (!r.request_id.empty()) {
    out += " request_id=";
    append_text_value(out, r.request_id);
  }
  for (const auto& f : r.fields) {
    out += ' ';
    append_text_escaped(out, f.key);
    out += '=';
    append_field_value(out, f, false);
  }
}

void append_log_json(std::string& out, const LogRecord& r, const Resource& res) {
  out += "{\"time\":\"";
  append_timestamp(out, r.time);
  out += "\",\"severity\":";
  append_json_string(out, log::to_string(r.level));
  out += ",\"message\":";
  append_json_string(out, r.message);
  out += ",\"service\":";
  append_json_string(out, res.service);
  if (!res.environment.empty()) {
    out += ",\"environment\":";
    append_json_string(out, res.environment);
  }
  if (!res.version.empty()) {
    out += ",\"version\":";
    append_json_string(out, res.version);
  }
  out += ",\"host\":";
  append_json_string(out, res.host);
  out += ",\"pid\":";
  append_int(out, res.pid);
  out += ",\"thread\":";
  append_int(out, static_cast<std::int64_t>(r.thread_id));
  // Top-level ids, so Loki's derived fields and Grafana can link to the trace.
  if (r.trace_id.valid()) {
    out += ",\"trace_id\":\"";
    out += r.trace_id.hex();
    out += "\",\"span_id\":\"";
    out += r.span_id.hex();
    out += '"';
  }
  if (!r.request_id.empty()) {
    out += ",\"request_id\":";
    append_json_string(out, r.request_id);
  }
  for (const auto& f : r.fields) {
    out += ',';
    if (reserved_json_key(f.key)) {
      append_json_string(out, "fields." + f.key);
    } else {
      append_json_string(out, f.key);
    }
    out += ':';
    append_field_value(out, f, true);
  }
  out += '}';
}

}  // namespace obs
