#include "trace_waterfall.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "text_format.hpp"

namespace demo_report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------- parsing

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const json* array_member(const json& object, const char* key) {
  const json* v = member(object, key);
  return v && v->is_array() ? v : nullptr;
}

std::string string_member(const json& object, const char* key) {
  const json* v = member(object, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// 64-bit integers are decimal strings in the OTLP JSON mapping; numbers
// are accepted too.
std::optional<std::uint64_t> u64_member(const json& object, const char* key) {
  const json* v = member(object, key);
  if (!v) return std::nullopt;
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    std::uint64_t out = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return out;
  }
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (v->is_number_integer()) {
    auto i = v->get<std::int64_t>();
    if (i >= 0) return static_cast<std::uint64_t>(i);
  }
  return std::nullopt;
}

// An enum field: its number, or its proto name looked up in names (index =
// number); fallback when absent or unknown.
int enum_member(const json& object, const char* key, std::initializer_list<std::string_view> names, int fallback) {
  const json* v = member(object, key);
  if (!v) return fallback;
  if (v->is_number_integer()) return static_cast<int>(v->get<std::int64_t>());
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    int n = 0;
    for (auto name : names) {
      if (s == name) return n;
      ++n;
    }
  }
  return fallback;
}

std::string number_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  return buf;
}

// AnyValue as text: scalars plainly, arrays and maps as compact JSON.
std::string any_value_text(const json& value) {
  if (const json* s = member(value, "stringValue"); s && s->is_string()) return s->get<std::string>();
  if (const json* i = member(value, "intValue")) {
    if (i->is_string()) return i->get<std::string>();
    if (i->is_number()) return i->dump();
  }
  if (const json* d = member(value, "doubleValue")) {
    if (d->is_string()) return d->get<std::string>();  // "NaN", "Infinity"
    if (d->is_number()) return number_text(d->get<double>());
  }
  if (const json* b = member(value, "boolValue"); b && b->is_boolean()) return b->get<bool>() ? "true" : "false";
  if (const json* a = member(value, "arrayValue")) return a->dump();
  if (const json* k = member(value, "kvlistValue")) return k->dump();
  if (const json* y = member(value, "bytesValue"); y && y->is_string()) return y->get<std::string>();
  return {};
}

Attributes attributes_of(const json& object) {
  Attributes out;
  const json* list = array_member(object, "attributes");
  if (!list) return out;
  for (const auto& kv : *list) {
    const json* key = member(kv, "key");
    if (!key || !key->is_string()) continue;
    const json* value = member(kv, "value");
    out.emplace_back(key->get<std::string>(), value ? any_value_text(*value) : std::string());
  }
  return out;
}

const std::string* find_attribute(const Attributes& attrs, std::string_view key) {
  for (const auto& [k, v] : attrs)
    if (k == key) return &v;
  return nullptr;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// A trace or span id: hex of the given length, not all zeros; lower-cased.
std::optional<std::string> id_member(const json& object, const char* key, std::size_t length) {
  std::string s = string_member(object, key);
  if (s.size() != length || !is_hex(s) || s.find_first_not_of('0') == std::string::npos) return std::nullopt;
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return c >= 'A' && c <= 'F' ? char(c - 'A' + 'a') : c; });
  return s;
}

std::string resource_service(const json& resource_entry) {
  const json* resource = member(resource_entry, "resource");
  if (!resource) return {};
  const json* list = array_member(*resource, "attributes");
  if (!list) return {};
  for (const auto& kv : *list) {
    const json* key = member(kv, "key");
    if (key && key->is_string() && key->get_ref<const std::string&>() == "service.name") {
      const json* value = member(kv, "value");
      return value ? any_value_text(*value) : std::string();
    }
  }
  return {};
}

std::optional<json> parse_json(std::string_view line) {
  json doc = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  return doc;
}

std::string severity_from_number(int n) {
  if (n >= 1 && n <= 4) return "TRACE";
  if (n >= 5 && n <= 8) return "DEBUG";
  if (n >= 9 && n <= 12) return "INFO";
  if (n >= 13 && n <= 16) return "WARN";
  if (n >= 17 && n <= 20) return "ERROR";
  if (n >= 21 && n <= 24) return "FATAL";
  return "-";
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

// Calls f(line) for every non-blank line of the file.
template <class F>
void for_each_line(const fs::path& file, ReadStats& stats, F&& f) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    stats.problems.push_back("cannot read " + file.string());
    return;
  }
  ++stats.files;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (blank(line)) continue;
    f(line);
  }
}

// ---------------------------------------------------------------- rendering

std::string kind_tag(int kind) {
  switch (kind) {
    case kKindInternal: return "int";
    case kKindServer: return "srv";
    case kKindClient: return "cli";
    case kKindProducer: return "pro";
    case kKindConsumer: return "con";
    default: return "---";
  }
}

std::string utc_time(std::uint64_t ns) {
  const std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000u);
  const unsigned millis = static_cast<unsigned>((ns / 1'000'000u) % 1000u);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03u UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string count(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::int64_t offset_ns(std::uint64_t t, std::uint64_t origin) {
  return t >= origin ? static_cast<std::int64_t>(t - origin) : -static_cast<std::int64_t>(origin - t);
}

std::string_view service_color(const std::vector<std::string>& services, std::string_view service) {
  static constexpr std::string_view kPalette[] = {ansi::kCyan, ansi::kMagenta, ansi::kBlue, ansi::kGreen, ansi::kYellow};
  auto it = std::find(services.begin(), services.end(), service);
  auto n = static_cast<std::size_t>(it - services.begin());
  return kPalette[n % std::size(kPalette)];
}

std::string error_detail(const Span& s) {
  std::string out = s.status_message.empty() ? "status ERROR" : s.status_message;
  std::string extra;
  for (const char* key : {"http.response.status_code", "error.type", "exception.message"}) {
    if (const std::string* v = find_attribute(s.attributes, key)) {
      if (!extra.empty()) extra += ", ";
      extra += std::string(key) + "=" + *v;
    }
  }
  if (!extra.empty()) out += " (" + extra + ")";
  return out;
}

}  // namespace

// ---------------------------------------------------------------- parsing API

bool parse_traces_line(std::string_view line, std::vector<Span>& out, std::size_t* skipped) {
  auto doc = parse_json(line);
  if (!doc) return false;
  const json* resource_spans = array_member(*doc, "resourceSpans");
  if (!resource_spans) return false;
  std::vector<Span> spans;
  std::size_t bad = 0;
  for (const auto& rs : *resource_spans) {
    if (!rs.is_object()) return false;
    const std::string service = resource_service(rs);
    const json* scopes = array_member(rs, "scopeSpans");
    if (!scopes) continue;
    for (const auto& scope : *scopes) {
      const json* list = array_member(scope, "spans");
      if (!list) continue;
      for (const auto& js : *list) {
        auto trace_id = id_member(js, "traceId", 32);
        auto span_id = id_member(js, "spanId", 16);
        auto start = u64_member(js, "startTimeUnixNano");
        if (!trace_id || !span_id || !start) {
          ++bad;
          continue;
        }
        Span s;
        s.trace_id = std::move(*trace_id);
        s.span_id = std::move(*span_id);
        if (auto parent = id_member(js, "parentSpanId", 16)) s.parent_span_id = std::move(*parent);
        s.service = service;
        s.name = string_member(js, "name");
        s.kind = enum_member(js, "kind",
                             {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
                              "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"},
                             kKindUnspecified);
        s.start_ns = *start;
        s.end_ns = u64_member(js, "endTimeUnixNano").value_or(s.start_ns);
        if (const json* status = member(js, "status")) {
          s.status_code =
              enum_member(*status, "code", {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"}, kStatusUnset);
          s.status_message = string_member(*status, "message");
        }
        if (s.is_error()) s.attributes = attributes_of(js);  // only shown for errors; big files stay small
        spans.push_back(std::move(s));
      }
    }
  }
  for (auto& s : spans) out.push_back(std::move(s));
  if (skipped) *skipped += bad;
  return true;
}

bool parse_logs_line(std::string_view line, std::vector<LogRecord>& out, std::string_view only_trace_id,
                     std::size_t* skipped) {
  auto doc = parse_json(line);
  if (!doc) return false;
  const json* resource_logs = array_member(*doc, "resourceLogs");
  if (!resource_logs) return false;
  std::vector<LogRecord> records;
  std::size_t bad = 0;
  for (const auto& rl : *resource_logs) {
    if (!rl.is_object()) return false;
    const std::string service = resource_service(rl);
    const json* scopes = array_member(rl, "scopeLogs");
    if (!scopes) continue;
    for (const auto& scope : *scopes) {
      const json* list = array_member(scope, "logRecords");
      if (!list) continue;
      for (const auto& jr : *list) {
        if (!jr.is_object()) {
          ++bad;
          continue;
        }
        auto trace_id = id_member(jr, "traceId", 32);
        if (!only_trace_id.empty() && (!trace_id || *trace_id != only_trace_id)) continue;
        auto time = u64_member(jr, "timeUnixNano");
        if (!time || *time == 0) time = u64_member(jr, "observedTimeUnixNano");
        LogRecord r;
        r.time_ns = time.value_or(0);
        r.service = service;
        r.severity = string_member(jr, "severityText");
        if (r.severity.empty()) {
          const json* n = member(jr, "severityNumber");
          r.severity = severity_from_number(n && n->is_number_integer() ? static_cast<int>(n->get<std::int64_t>()) : 0);
        }
        if (const json* body = member(jr, "body")) r.body = any_value_text(*body);
        if (trace_id) r.trace_id = std::move(*trace_id);
        if (auto span_id = id_member(jr, "spanId", 16)) r.span_id = std::move(*span_id);
        r.attributes = attributes_of(jr);
        records.push_back(std::move(r));
      }
    }
  }
  for (auto& r : records) out.push_back(std::move(r));
  if (skipped) *skipped += bad;
  return true;
}

std::vector<fs::path> signal_files(const fs::path& dir, std::string_view signal) {
  std::vector<std::pair<unsigned long, fs::path>> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string prefix = std::string(signal) + ".";
    constexpr std::string_view kSuffix = ".jsonl";
    if (name == std::string(signal) + std::string(kSuffix)) {
      found.emplace_back(0, it->path());
      continue;
    }
    if (name.size() <= prefix.size() + kSuffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0)
      continue;
    // "<signal>.N.jsonl"
    std::string_view middle(name.data() + prefix.size(), name.size() - prefix.size() - kSuffix.size());
    unsigned long n = 0;
    auto [ptr, perr] = std::from_chars(middle.data(), middle.data() + middle.size(), n);
    if (perr != std::errc() || ptr != middle.data() + middle.size() || n == 0) continue;
    found.emplace_back(n, it->path());
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> out;
  for (auto& [n, p] : found) out.push_back(std::move(p));
  return out;
}

namespace {

// Visits the <signal> files of every directory, noting missing ones.
template <class F>
void for_each_signal_line(const std::vector<fs::path>& dirs, std::string_view signal, ReadStats& stats, F&& f) {
  for (const auto& dir : dirs) {
    ++stats.dirs;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      stats.problems.push_back("directory " + dir.string() + " not found");
      continue;
    }
    auto files = signal_files(dir, signal);
    if (files.empty()) {
      stats.problems.push_back("no " + std::string(signal) + ".jsonl in " + dir.string());
      continue;
    }
    for (const auto& file : files) for_each_line(file, stats, f);
  }
}

}  // namespace

std::vector<Span> read_spans(const std::vector<fs::path>& dirs, ReadStats& stats) {
  std::vector<Span> spans;
  for_each_signal_line(dirs, "traces", stats, [&](const std::string& line) {
    ++stats.lines;
    if (!parse_traces_line(line, spans, &stats.skipped_items)) ++stats.malformed_lines;
  });
  return spans;
}

std::vector<LogRecord> read_logs(const std::vector<fs::path>& dirs, std::string_view trace_id, ReadStats& stats) {
  std::vector<LogRecord> logs;
  std::string upper(trace_id);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return c >= 'a' && c <= 'f' ? char(c - 'a' + 'A') : c; });
  for_each_signal_line(dirs, "logs", stats, [&](const std::string& line) {
    if (!trace_id.empty() && line.find(trace_id) == std::string::npos && line.find(upper) == std::string::npos) return;
    ++stats.lines;
    if (!parse_logs_line(line, logs, trace_id, &stats.skipped_items)) ++stats.malformed_lines;
  });
  std::stable_sort(logs.begin(), logs.end(), [](const LogRecord& a, const LogRecord& b) { return a.time_ns < b.time_ns; });
  return logs;
}

// ---------------------------------------------------------------- choosing

namespace {

struct Shape {
  std::set<std::string> services;
  const Span* root = nullptr;  // earliest-starting span without a parent
  std::size_t roots = 0;
  std::size_t orphans = 0;
  bool has_error = false;
  std::uint64_t start = 0;
};

Shape shape_of(const std::vector<Span>& spans, const std::vector<std::size_t>& indices) {
  Shape shape;
  std::unordered_set<std::string_view> ids;
  std::vector<std::size_t> unique;  // the first of spans exported twice
  for (auto i : indices)
    if (ids.insert(spans[i].span_id).second) unique.push_back(i);
  std::uint64_t earliest = UINT64_MAX;
  for (auto i : unique) {
    const Span& s = spans[i];
    shape.services.insert(s.service);
    shape.has_error = shape.has_error || s.is_error();
    earliest = std::min(earliest, s.start_ns);
    if (s.parent_span_id.empty()) {
      ++shape.roots;
      if (!shape.root || s.start_ns < shape.root->start_ns) shape.root = &s;
    } else if (!ids.count(s.parent_span_id)) {
      ++shape.orphans;
    }
  }
  shape.start = shape.root ? shape.root->start_ns : earliest;
  return shape;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out.append(sep);
    out.append(s.empty() ? "(no service.name)" : s);
  }
  return out;
}

bool by_start(const Span& a, const Span& b) {
  return std::tie(a.start_ns, a.name, a.span_id) < std::tie(b.start_ns, b.name, b.span_id);
}

}  // namespace

std::optional<Trace> pick_trace(const std::vector<Span>& spans, const PickOptions& options, std::string* why_not) {
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_trace;
  for (std::size_t i = 0; i < spans.size(); ++i) by_trace[spans[i].trace_id].push_back(i);

  using Key = std::tuple<bool, bool, bool, std::uint64_t, std::string_view>;
  std::optional<Key> best;
  const std::vector<std::size_t>* best_indices = nullptr;
  Shape best_shape;
  std::size_t complete = 0;
  std::set<std::string> seen_services;
  for (const auto& [id, indices] : by_trace) {
    if (!options.trace_id.empty() && id != options.trace_id) continue;
    Shape shape = shape_of(spans, indices);
    seen_services.insert(shape.services.begin(), shape.services.end());
    const bool is_complete = std::all_of(options.services.begin(), options.services.end(),
                                         [&](const std::string& s) { return shape.services.count(s) > 0; });
    if (is_complete) ++complete;
    if (!is_complete && options.trace_id.empty()) continue;
    const bool intact = shape.roots == 1 && shape.orphans == 0;
    const bool preferred = intact && !shape.has_error && shape.root->service == options.root_service &&
                           shape.root->kind == kKindServer && shape.root->name == options.root_name;
    Key key{preferred, intact, !shape.has_error, shape.start, id};
    if (!best || key > *best) {
      best = key;
      best_indices = &indices;
      best_shape = shape;
    }
  }

  if (!best) {
    if (why_not) {
      if (spans.empty()) {
        *why_not = "no spans in the traces files";
      } else if (!options.trace_id.empty()) {
        *why_not = "trace " + options.trace_id + " is not in the traces files";
      } else {
        *why_not = "no trace has spans from all of " + join(options.services, ", ") + " (" +
                   std::to_string(by_trace.size()) + " traces read, services seen: " +
                   join(std::vector<std::string>(seen_services.begin(), seen_services.end()), ", ") + ")";
      }
    }
    return std::nullopt;
  }

  Trace trace;
  trace.trace_id = std::string(std::get<4>(*best));
  trace.traces_seen = by_trace.size();
  trace.complete_traces = complete;
  std::unordered_set<std::string_view> ids;
  for (auto i : *best_indices)
    if (ids.insert(spans[i].span_id).second) trace.spans.push_back(spans[i]);
  std::stable_sort(trace.spans.begin(), trace.spans.end(), by_start);
  for (const auto& s : trace.spans)
    if (std::find(trace.services.begin(), trace.services.end(), s.service) == trace.services.end())
      trace.services.push_back(s.service);

  const std::string preferred_root = options.root_service + " \"" + options.root_name + "\"";
  if (!options.trace_id.empty()) {
    std::vector<std::string> missing;
    for (const auto& s : options.services)
      if (!best_shape.services.count(s)) missing.push_back(s);
    trace.reason = "requested with --trace-id";
    if (!missing.empty()) trace.reason += " (incomplete: no spans from " + join(missing, ", ") + ")";
  } else if (std::get<0>(*best)) {
    trace.reason = "the most recent of " + std::to_string(complete) + " complete traces rooted at " + preferred_root +
                   " without errors";
  } else {
    std::vector<std::string> flaws;
    if (best_shape.has_error) flaws.push_back("has error spans");
    if (!best_shape.root) flaws.push_back("no root span");
    else if (best_shape.roots > 1) flaws.push_back(std::to_string(best_shape.roots) + " root spans");
    if (best_shape.orphans) flaws.push_back(std::to_string(best_shape.orphans) + " spans' parents missing");
    if (const Span* r = best_shape.root;
        r && (r->service != options.root_service || r->kind != kKindServer || r->name != options.root_name))
      flaws.push_back("root is " + (r->service.empty() ? std::string("?") : r->service) + " " + kind_tag(r->kind) + " \"" +
                      r->name + "\"");
    trace.reason = "no complete, error-free trace rooted at " + preferred_root + "; showing the best of " +
                   std::to_string(complete) + " complete traces (" + join(flaws, ", ") + ")";
  }
  return trace;
}

std::vector<WaterfallRow> waterfall_rows(const std::vector<Span>& spans) {
  std::unordered_map<std::string_view, std::size_t> by_id;
  for (std::size_t i = 0; i < spans.size(); ++i) by_id.emplace(spans[i].span_id, i);
  std::unordered_map<std::string_view, std::vector<std::size_t>> children;
  std::vector<std::size_t> roots, orphans;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    if (s.parent_span_id.empty()) roots.push_back(i);
    else if (!by_id.count(s.parent_span_id)) orphans.push_back(i);
    else children[s.parent_span_id].push_back(i);
  }
  auto order = [&](std::vector<std::size_t>& v) {
    std::stable_sort(v.begin(), v.end(), [&](std::size_t a, std::size_t b) { return by_start(spans[a], spans[b]); });
  };
  order(roots);
  order(orphans);
  for (auto& [id, list] : children) order(list);

  std::vector<WaterfallRow> rows;
  std::vector<bool> visited(spans.size(), false);
  auto walk = [&](std::size_t top, bool orphan) {
    std::vector<std::pair<std::size_t, int>> stack{{top, 0}};
    while (!stack.empty()) {
      auto [i, depth] = stack.back();
      stack.pop_back();
      if (visited[i]) continue;
      visited[i] = true;
      rows.push_back({i, depth, orphan && depth == 0});
      auto it = children.find(spans[i].span_id);
      if (it == children.end()) continue;
      for (auto c = it->second.rbegin(); c != it->second.rend(); ++c) stack.emplace_back(*c, depth + 1);
    }
  };
  for (auto r : roots) walk(r, false);
  for (auto o : orphans) walk(o, true);
  // Whatever is left sits in a parent cycle: shown as orphans.
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < spans.size(); ++i)
    if (!visited[i]) rest.push_back(i);
  order(rest);
  for (auto r : rest) walk(r, true);
  return rows;
}

// ---------------------------------------------------------------- rendering API

std::string format_ms(std::int64_t ns) {
  const bool negative = ns < 0;
  const std::uint64_t a = negative ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%llu.%03llu", negative ? "-" : "", static_cast<unsigned long long>(a / 1'000'000u),
                static_cast<unsigned long long>((a / 1000u) % 1000u));
  return buf;
}

Timeline timeline_of(const Trace& trace) {
  Timeline t;
  if (trace.spans.empty()) return t;
  const Span* root = nullptr;
  std::uint64_t first = UINT64_MAX, last = 0;
  for (const auto& s : trace.spans) {
    first = std::min(first, s.start_ns);
    last = std::max(last, std::max(s.end_ns, s.start_ns));
    if (s.parent_span_id.empty() && (!root || s.start_ns < root->start_ns)) root = &s;
  }
  if (root && root->duration_ns() > 0) {
    t.origin_ns = root->start_ns;
    t.total_ns = root->duration_ns();
  } else {
    t.origin_ns = first;
    t.total_ns = std::max<std::uint64_t>(last - first, 1);
  }
  return t;
}

std::string render_waterfall(const Trace& trace, const RenderOptions& options) {
  const Style style{options.color};
  const Timeline tl = timeline_of(trace);
  const auto rows = waterfall_rows(trace.spans);
  std::string out;

  const std::uint64_t first_start = trace.spans.empty() ? 0 : trace.spans.front().start_ns;
  out += style.paint("Trace " + trace.trace_id, ansi::kBold) + ": " + count(trace.spans.size(), "span") + ", " +
         count(trace.services.size(), "service") + ", " + format_ms(static_cast<std::int64_t>(tl.total_ns)) +
         " ms, started " + utc_time(first_start) + "\n";
  if (!trace.reason.empty()) out += "Chosen: " + trace.reason + "\n";
  out += "\n";

  std::size_t svcw = 7;  // "service"
  for (const auto& s : trace.spans) svcw = std::max(svcw, std::max<std::size_t>(s.service.size(), 1));
  svcw = std::min<std::size_t>(svcw, 16);
  std::size_t need = 4;  // "span"
  for (const auto& r : rows) need = std::max(need, 2 * static_cast<std::size_t>(r.depth) + trace.spans[r.index].name.size());
  // marker 2, service svcw+1, kind 4, name namew+1, start 10, duration 10, bar bar+2
  const int fixed_cols = static_cast<int>(svcw) + 30;
  const int avail = std::max(options.width - fixed_cols, 0);
  const int bar = std::clamp(avail - static_cast<int>(need), options.min_bar, std::max(options.min_bar, options.max_bar));
  const std::size_t namew = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(avail - bar, 0)), 8, need);

  // Header: the scale runs from 0 to the root's duration.
  std::string scale(static_cast<std::size_t>(bar) + 2, ' ');
  const std::string right = format_ms(static_cast<std::int64_t>(tl.total_ns)) + " ms";
  if (right.size() + 2 <= scale.size()) {
    scale[0] = '0';
    scale.replace(scale.size() - right.size(), right.size(), right);
  }
  out += "  " + pad_right("service", svcw) + " knd " + pad_right("span", namew) + " " + pad_left("start ms", 9) + " " +
         pad_left("dur ms", 9) + " " + scale + "\n";

  bool any_error = false, any_orphan = false;
  for (const auto& row : rows) {
    const Span& s = trace.spans[row.index];
    any_error = any_error || s.is_error();
    any_orphan = any_orphan || row.orphan;
    const std::int64_t off = offset_ns(s.start_ns, tl.origin_ns);
    const std::int64_t end_off = off + static_cast<std::int64_t>(s.duration_ns());
    const double scale_factor = static_cast<double>(bar) / static_cast<double>(tl.total_ns);
    int c0 = static_cast<int>(std::floor(static_cast<double>(std::max<std::int64_t>(off, 0)) * scale_factor));
    int c1 = static_cast<int>(std::ceil(static_cast<double>(std::max<std::int64_t>(end_off, 0)) * scale_factor));
    c0 = std::clamp(c0, 0, bar - 1);
    c1 = std::clamp(c1, c0 + 1, bar);
    std::string fill(static_cast<std::size_t>(bar), ' ');
    for (int c = c0; c < c1; ++c) fill[static_cast<std::size_t>(c)] = s.is_error() ? 'x' : '#';

    const std::string marker = s.is_error() ? "!" : row.orphan ? "?" : " ";
    const std::string name = pad_right(std::string(2 * static_cast<std::size_t>(row.depth), ' ') + s.name, namew);
    out += style.paint(marker, s.is_error() ? ansi::kRed : ansi::kYellow) + " ";
    out += style.paint(pad_right(s.service.empty() ? "?" : s.service, svcw), service_color(trace.services, s.service)) + " ";
    out += kind_tag(s.kind) + " ";
    out += (s.is_error() ? style.paint(name, ansi::kRed) : name) + " ";
    out += pad_left(format_ms(off), 9) + " " + pad_left(format_ms(static_cast<std::int64_t>(s.duration_ns())), 9) + " ";
    out += "|" + style.paint(fill, s.is_error() ? ansi::kRed : service_color(trace.services, s.service)) + "|\n";
  }

  std::string legend = "  knd: srv server, cli client, int internal; start = offset from the root";
  if (any_error) legend += "; ! error";
  if (any_orphan) legend += "; ? parent not found";
  out += style.paint(legend, ansi::kDim) + "\n";
  if (any_error) {
    out += "Errors:\n";
    for (const auto& row : rows) {
      const Span& s = trace.spans[row.index];
      if (!s.is_error()) continue;
      out += "  " + style.paint("!", ansi::kRed) + " " + s.service + " \"" + s.name + "\" [" + s.span_id.substr(0, 8) +
             "]: " + error_detail(s) + "\n";
    }
  }
  return out;
}

std::string render_logs(const Trace& trace, const std::vector<LogRecord>& logs, const RenderOptions& options) {
  const Style style{options.color};
  std::string out;
  if (logs.empty()) {
    out += "No log records of trace " + trace.trace_id + " in the logs files.\n";
    return out;
  }
  const Timeline tl = timeline_of(trace);
  std::size_t svcw = 7;
  for (const auto& r : logs) svcw = std::max(svcw, r.service.size());
  svcw = std::min<std::size_t>(svcw, 16);
  // offset 10, service svcw+1, level 6, span 9 (+1 gap)
  const int used = 2 + 10 + static_cast<int>(svcw) + 1 + 6 + 10;
  const std::size_t msgw = static_cast<std::size_t>(std::max(options.width - used, 24));

  out += style.paint("Logs of this trace", ansi::kBold) + " (" + count(logs.size(), "record") + ", by time):\n";
  out += "  " + pad_left("at ms", 9) + " " + pad_right("service", svcw) + " " + pad_right("level", 5) + " " +
         pad_right("span", 8) + "  message\n";
  for (const auto& r : logs) {
    std::string message = r.body;
    for (const auto& [k, v] : r.attributes) {
      if (k == "thread.id") continue;
      message += "  " + k + "=" + v;
    }
    std::string_view color;
    if (r.severity == "ERROR" || r.severity == "FATAL") color = ansi::kRed;
    else if (r.severity == "WARN") color = ansi::kYellow;
    else if (r.severity == "DEBUG" || r.severity == "TRACE") color = ansi::kDim;
    out += "  " + pad_left(format_ms(offset_ns(r.time_ns, tl.origin_ns)), 9) + " ";
    out += style.paint(pad_right(r.service.empty() ? "?" : r.service, svcw), service_color(trace.services, r.service)) + " ";
    out += (color.empty() ? pad_right(r.severity, 5) : style.paint(pad_right(r.severity, 5), color)) + " ";
    out += pad_right(r.span_id.empty() ? "-" : r.span_id.substr(0, 8), 8) + "  ";
    out += fit(message, msgw) + "\n";
  }
  return out;
}

}  // namespace demo_report
