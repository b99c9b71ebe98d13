#include "prometheus_summary.hpp"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "text_format.hpp"

namespace demo_report {
namespace {

using nlohmann::json;

constexpr std::string_view kAdminRoutes = "/metrics|/health|/health/ready";

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string string_member(const json& object, const char* key) {
  const json* v = member(object, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

// The API's sample value: [<unix time>, "<value>"]; "NaN", "+Inf", "-Inf"
// included (strtod reads them).
std::optional<double> sample_value(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) return std::nullopt;
  const auto& s = pair[1].get_ref<const std::string&>();
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

// A body quoted in a message: whitespace runs collapsed, cut short.
std::string truncated_body(std::string_view body) {
  std::string s;
  for (char c : body) {
    const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (space && (s.empty() || s.back() == ' ')) continue;
    s.push_back(space ? ' ' : c);
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return fit(s, 80);
}

// The error of a non-success answer: "errorType: error", or a description
// of an answer that is not the API's JSON at all.
std::optional<std::string> api_error(const json* doc, std::string_view body, int http_status) {
  if (!doc) {
    std::string msg = "HTTP " + std::to_string(http_status) + ", not JSON";
    if (!body.empty()) msg += ": " + truncated_body(body);
    return msg;
  }
  const std::string status = string_member(*doc, "status");
  if (status == "success") return std::nullopt;
  if (status == "error") {
    std::string type = string_member(*doc, "errorType");
    std::string error = string_member(*doc, "error");
    return (type.empty() ? "" : type + ": ") + (error.empty() ? "error without a message" : error);
  }
  return "HTTP " + std::to_string(http_status) + ", unexpected answer: " + truncated_body(body);
}

// PromQL string literal content for a regex alternation of names ('.' is
// a regex metacharacter; in a double-quoted PromQL string the backslash
// itself is escaped).
std::string job_regex(const std::vector<std::string>& services) {
  std::string out;
  for (const auto& s : services) {
    if (!out.empty()) out.push_back('|');
    for (char c : s) {
      if (c == '.') out += "\\\\.";
      else out.push_back(c);
    }
  }
  return out;
}

std::optional<double> value_for(const std::map<std::string, QueryResult>& results, std::string_view id,
                                const std::string& job) {
  auto it = results.find(std::string(id));
  if (it == results.end() || !it->second.ok) return std::nullopt;
  for (const auto& s : it->second.samples) {
    auto j = s.labels.find("job");
    if (j != s.labels.end() && j->second == job) {
      if (std::isnan(s.value)) return std::nullopt;  // e.g. a quantile over no requests
      return s.value;
    }
  }
  return std::nullopt;
}

std::vector<std::string> jobs_in(const std::map<std::string, QueryResult>& results, std::initializer_list<std::string_view> ids,
                                 const std::vector<std::string>& order) {
  std::set<std::string> jobs;
  for (auto id : ids) {
    auto it = results.find(std::string(id));
    if (it == results.end() || !it->second.ok) continue;
    for (const auto& s : it->second.samples)
      if (auto j = s.labels.find("job"); j != s.labels.end()) jobs.insert(j->second);
  }
  std::vector<std::string> out;
  for (const auto& s : order)
    if (jobs.erase(s)) out.push_back(s);
  out.insert(out.end(), jobs.begin(), jobs.end());
  return out;
}

// ---------------------------------------------------------------- formatting

std::string cell_ms(const std::optional<double>& seconds) {
  if (!seconds) return "-";
  if (std::isinf(*seconds)) return *seconds > 0 ? "+Inf" : "-Inf";
  const double ms = *seconds * 1000.0;
  const int decimals = ms < 1 ? 3 : ms < 10 ? 2 : ms < 100 ? 1 : 0;
  return fixed(ms, decimals);
}

std::string cell_rate(const std::optional<double>& v) {
  if (!v) return "-";
  if (std::isinf(*v)) return "+Inf";
  return fixed(*v, *v < 10 ? 2 : 1);
}

std::string cell_percent(const std::optional<double>& ratio) {
  if (!ratio) return "-";
  return fixed(*ratio * 100.0, 2);
}

// Seconds since the epoch of an RFC 3339 time ("2024-05-01T10:00:00.123Z",
// "...+02:00"); nullopt when unreadable.
std::optional<std::time_t> parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t t = timegm(&tm);
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.')
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9';) ++i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) == 2) t -= (s[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  }
  return t;
}

std::string age(std::int64_t secs) {
  if (secs < 0) secs = 0;
  char buf[48];
  if (secs < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(secs));
  else if (secs < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(secs / 60), static_cast<long long>(secs % 60));
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(secs / 3600), static_cast<long long>((secs / 60) % 60));
  return buf;
}

std::string since(const std::string& active_at, std::chrono::system_clock::time_point now) {
  auto t = parse_rfc3339(active_at);
  if (!t) return active_at.empty() ? "-" : active_at;
  std::tm tm{};
  gmtime_r(&*t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d UTC", tm.tm_hour, tm.tm_min, tm.tm_sec);
  const auto now_secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return std::string(buf) + " (for " + age(static_cast<std::int64_t>(now_secs) - static_cast<std::int64_t>(*t)) + ")";
}

}  // namespace

// ---------------------------------------------------------------- HTTP

Fetcher http_fetcher(const std::string& base_url, std::string* error, std::chrono::milliseconds timeout) {
  auto fail = [&](std::string msg) -> Fetcher {
    if (error) *error = std::move(msg);
    return {};
  };
  const auto scheme_end = base_url.find("://");
  if (scheme_end == std::string::npos) return fail("'" + base_url + "' is not a URL (want http://host:port)");
  const std::string scheme = base_url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return fail("'" + base_url + "': only http:// and https:// are supported");
  const auto path_start = base_url.find('/', scheme_end + 3);
  const std::string origin = base_url.substr(0, path_start);
  std::string prefix = path_start == std::string::npos ? "" : base_url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (origin.size() == scheme_end + 3) return fail("'" + base_url + "' has no host");

  auto client = std::make_shared<httplib::Client>(origin);
  if (!client->is_valid()) return fail("'" + base_url + "' is not a usable URL");
  const auto secs = static_cast<time_t>(timeout.count() / 1000);
  const auto usecs = static_cast<time_t>((timeout.count() % 1000) * 1000);
  client->set_connection_timeout(secs, usecs);
  client->set_read_timeout(secs, usecs);
  client->set_write_timeout(secs, usecs);
  return [client, prefix](const std::string& path, const QueryParams& params) {
    httplib::Params p;
    for (const auto& [k, v] : params) p.emplace(k, v);
    HttpAnswer answer;
    auto res = client->Get(prefix + path, p, httplib::Headers{{"Accept", "application/json"}});
    if (!res) {
      switch (res.error()) {
        case httplib::Error::Connection: answer.error = "cannot connect"; break;
        case httplib::Error::ConnectionTimeout: answer.error = "connect timed out"; break;
        case httplib::Error::Read: answer.error = "no answer (read failed or timed out)"; break;
        default: answer.error = "request failed: " + httplib::to_string(res.error());
      }
      return answer;
    }
    answer.transport_ok = true;
    answer.status = res->status;
    answer.body = res->body;
    return answer;
  };
}

// ---------------------------------------------------------------- parsing

QueryResult parse_query_response(std::string_view body, int http_status) {
  QueryResult r;
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  const bool is_json = !doc.is_discarded() && doc.is_object();
  if (auto err = api_error(is_json ? &doc : nullptr, body, http_status)) {
    r.error = *err;
    return r;
  }
  if (const json* w = member(doc, "warnings"); w && w->is_array())
    for (const auto& item : *w)
      if (item.is_string()) r.warnings.push_back(item.get<std::string>());
  const json* data = member(doc, "data");
  if (!data) {
    r.error = "answer without data";
    return r;
  }
  r.result_type = string_member(*data, "resultType");
  const json* result = member(*data, "result");
  if (!result) {
    r.error = "answer without data.result";
    return r;
  }
  if (r.result_type == "scalar") {
    auto v = sample_value(*result);
    if (!v) {
      r.error = "unreadable scalar value";
      return r;
    }
    r.samples.push_back({{}, *v});
  } else if (r.result_type == "vector") {
    if (!result->is_array()) {
      r.error = "vector result is not a list";
      return r;
    }
    for (const auto& item : *result) {
      const json* value = member(item, "value");
      auto v = value ? sample_value(*value) : std::nullopt;
      if (!v) continue;  // a sample without a readable value carries nothing
      Sample s;
      s.value = *v;
      if (const json* metric = member(item, "metric"); metric && metric->is_object())
        for (const auto& [k, lv] : metric->items())
          if (lv.is_string()) s.labels.emplace(k, lv.get<std::string>());
      r.samples.push_back(std::move(s));
    }
  } else {
    r.error = "unexpected result type '" + r.result_type + "' (an instant query gives a vector or a scalar)";
    return r;
  }
  r.ok = true;
  return r;
}

AlertsResult parse_alerts_response(std::string_view body, int http_status) {
  AlertsResult r;
  json doc = json::parse(body.begin(), body.end(), nullptr, false);
  const bool is_json = !doc.is_discarded() && doc.is_object();
  if (auto err = api_error(is_json ? &doc : nullptr, body, http_status)) {
    r.error = *err;
    return r;
  }
  const json* data = member(doc, "data");
  const json* alerts = data ? member(*data, "alerts") : nullptr;
  if (!alerts || !alerts->is_array()) {
    r.error = "answer without data.alerts";
    return r;
  }
  for (const auto& a : *alerts) {
    Alert alert;
    if (const json* labels = member(a, "labels")) {
      alert.name = string_member(*labels, "alertname");
      alert.job = string_member(*labels, "job");
      alert.severity = string_member(*labels, "severity");
    }
    alert.state = string_member(a, "state");
    alert.active_at = string_member(a, "activeAt");
    r.alerts.push_back(std::move(alert));
  }
  std::stable_sort(r.alerts.begin(), r.alerts.end(), [](const Alert& a, const Alert& b) {
    return std::make_tuple(a.state != "firing", a.name, a.job) < std::make_tuple(b.state != "firing", b.name, b.job);
  });
  r.ok = true;
  return r;
}

// ---------------------------------------------------------------- summary

bool valid_service_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '-';
  });
}

bool valid_window(std::string_view w) {
  // One or more <digits><unit>, units as PromQL durations.
  if (w.empty()) return false;
  std::size_t i = 0;
  while (i < w.size()) {
    const std::size_t digits = i;
    while (i < w.size() && w[i] >= '0' && w[i] <= '9') ++i;
    if (i == digits || i == w.size()) return false;
    if (w.compare(i, 2, "ms") == 0) i += 2;
    else if (std::string_view("smhdwy").find(w[i]) != std::string_view::npos) ++i;
    else return false;
  }
  return true;
}

std::vector<NamedQuery> summary_queries(const SummaryOptions& o) {
  const std::string jobs = "job=~\"" + job_regex(o.services) + "\"";
  const std::string http = "{" + jobs + ",http_route!~\"" + std::string(kAdminRoutes) + "\"";
  const std::string w = "[" + o.window + "]";
  const std::string count = "http_server_request_duration_seconds_count";
  const std::string all = "sum by (job) (rate(" + count + http + "}" + w + "))";
  const std::string errors = "sum by (job) (rate(" + count + http + ",http_response_status_code=~\"5..\"}" + w + "))";
  auto quantile = [&](const char* q) {
    return std::string("histogram_quantile(") + q + ", sum by (job, le) (rate(http_server_request_duration_seconds_bucket" +
           http + "}" + w + ")))";
  };
  const std::string db = "{" + jobs + ",db_system_name=\"postgresql\"}";
  const std::string conv = "{" + jobs + "}";
  return {
      {std::string(query_id::kRate), "requests/s (admin routes excluded)", all},
      {std::string(query_id::kP50), "p50 latency", quantile("0.5")},
      {std::string(query_id::kP95), "p95 latency", quantile("0.95")},
      {std::string(query_id::kP99), "p99 latency", quantile("0.99")},
      {std::string(query_id::kErrors), "5xx share of requests", "(" + errors + " or 0 * " + all + ") / " + all},
      {std::string(query_id::kDbRate), "PostgreSQL queries/s",
       "sum by (job) (rate(db_client_operation_duration_seconds_count" + db + w + "))"},
      {std::string(query_id::kDbP95), "PostgreSQL query p95",
       "histogram_quantile(0.95, sum by (job, le) (rate(db_client_operation_duration_seconds_bucket" + db + w + ")))"},
      {std::string(query_id::kConvRate), "image conversions/s",
       "sum by (job) (rate(image_svc_conversion_duration_seconds_count" + conv + w + "))"},
      {std::string(query_id::kConvP95), "image conversion p95",
       "histogram_quantile(0.95, sum by (job, le) (rate(image_svc_conversion_duration_seconds_bucket" + conv + w + ")))"},
  };
}

void fill_summary(Summary& summary, const std::map<std::string, QueryResult>& results, const SummaryOptions& options) {
  summary.services.clear();
  summary.db.clear();
  summary.conversions.clear();
  for (const auto& job : options.services) {
    ServiceRow row;
    row.job = job;
    row.rate = value_for(results, query_id::kRate, job);
    row.p50 = value_for(results, query_id::kP50, job);
    row.p95 = value_for(results, query_id::kP95, job);
    row.p99 = value_for(results, query_id::kP99, job);
    row.error_ratio = value_for(results, query_id::kErrors, job);
    summary.services.push_back(std::move(row));
  }
  for (const auto& job : jobs_in(results, {query_id::kDbRate, query_id::kDbP95}, options.services))
    summary.db.push_back({job, value_for(results, query_id::kDbRate, job), value_for(results, query_id::kDbP95, job)});
  for (const auto& job : jobs_in(results, {query_id::kConvRate, query_id::kConvP95}, options.services))
    summary.conversions.push_back(
        {job, value_for(results, query_id::kConvRate, job), value_for(results, query_id::kConvP95, job)});
  for (const auto& [id, r] : results) {
    if (!r.ok) continue;
    for (const auto& w : r.warnings) summary.warnings.push_back(id + ": " + w);
  }
}

Summary collect_summary(const Fetcher& fetch, const SummaryOptions& options) {
  Summary summary;
  summary.queries = summary_queries(options);
  std::map<std::string, QueryResult> results;
  for (const auto& q : summary.queries) {
    HttpAnswer answer = fetch("/api/v1/query", {{"query", q.promql}});
    if (!answer.transport_ok) {
      summary.reachable = false;
      summary.unreachable_reason = answer.error.empty() ? "no answer" : answer.error;
      break;
    }
    QueryResult r = parse_query_response(answer.body, answer.status);
    if (!r.ok) summary.failures.emplace_back(q.id, r.error);
    results.emplace(q.id, std::move(r));
  }
  fill_summary(summary, results, options);
  if (!summary.reachable) {
    summary.alerts_error = "not requested (Prometheus unreachable)";
    return summary;
  }
  HttpAnswer answer = fetch("/api/v1/alerts", {});
  if (!answer.transport_ok) {
    summary.alerts_error = answer.error.empty() ? "no answer" : answer.error;
    return summary;
  }
  AlertsResult alerts = parse_alerts_response(answer.body, answer.status);
  summary.alerts_ok = alerts.ok;
  summary.alerts_error = alerts.error;
  summary.alerts = std::move(alerts.alerts);
  return summary;
}

std::string render_summary(const Summary& s, const SummaryOptions& options, const SummaryRenderOptions& render) {
  const Style style{render.color};
  std::string out;
  out += style.paint("Prometheus " + render.base_url, ansi::kBold) + ": rates and latencies over the last " +
         options.window + " (instant queries)\n";
  if (!s.reachable) {
    out += style.paint("  unreachable: " + s.unreachable_reason, ansi::kRed) + "\n";
    return out;
  }
  out += "\n";

  std::size_t jobw = 9;
  for (const auto& r : s.services) jobw = std::max(jobw, r.job.size());
  jobw = std::min<std::size_t>(jobw, 24);
  auto num = [](const std::string& v) { return " " + pad_left(v, 9); };

  out += style.paint("  " + pad_right("service", jobw) + num("req/s") + num("p50 ms") + num("p95 ms") + num("p99 ms") +
                         num("5xx %"),
                     ansi::kBold) +
         "\n";
  for (const auto& r : s.services) {
    std::string err = num(cell_percent(r.error_ratio));
    if (r.error_ratio && *r.error_ratio > 0) err = style.paint(err, ansi::kRed);
    out += "  " + pad_right(r.job, jobw) + num(cell_rate(r.rate)) + num(cell_ms(r.p50)) + num(cell_ms(r.p95)) +
           num(cell_ms(r.p99)) + err + "\n";
  }

  auto component = [&](const std::string& title, const char* rate_label, const std::vector<ComponentRow>& rows,
                       std::string_view rate_id, std::string_view p95_id) {
    const std::size_t colw = std::max(jobw, title.size() + 1);
    out += "\n" + style.paint("  " + pad_right(title, colw) + num(rate_label) + num("p95 ms"), ansi::kBold) + "\n";
    const bool failed = std::any_of(s.failures.begin(), s.failures.end(),
                                    [&](const auto& f) { return f.first == rate_id || f.first == p95_id; });
    if (rows.empty()) {
      out += "  " + std::string(failed ? "(query failed, see below)" : "no data in the window") + "\n";
      return;
    }
    for (const auto& r : rows)
      out += "  " + pad_right(r.job, colw) + num(cell_rate(r.rate)) + num(cell_ms(r.p95)) + "\n";
  };
  component("PostgreSQL queries", "queries/s", s.db, query_id::kDbRate, query_id::kDbP95);
  component("Image conversions", "conv/s", s.conversions, query_id::kConvRate, query_id::kConvP95);
  out += style.paint("  - = no data (no traffic in the window, or the query failed)", ansi::kDim) + "\n";

  // Alerts
  out += "\n";
  if (!s.alerts_ok) {
    out += style.paint("Alerts", ansi::kBold) + ": " + style.paint("cannot read /api/v1/alerts: " + s.alerts_error, ansi::kRed) + "\n";
  } else {
    std::size_t firing = 0, pending = 0;
    for (const auto& a : s.alerts) (a.state == "firing" ? firing : pending)++;
    out += style.paint("Alerts", ansi::kBold) + ": " + std::to_string(firing) + " firing, " + std::to_string(pending) +
           " pending\n";
    if (!s.alerts.empty()) {
      std::size_t namew = 5;
      for (const auto& a : s.alerts) namew = std::max(namew, a.name.size());
      namew = std::min<std::size_t>(namew, 32);
      out += style.paint("  " + pad_right("alert", namew) + "  " + pad_right("job", jobw) + "  " + pad_right("state", 8) +
                             "  since",
                         ansi::kBold) +
             "\n";
      for (const auto& a : s.alerts) {
        std::string state = pad_right(a.state, 8);
        state = style.paint(state, a.state == "firing" ? ansi::kRed : ansi::kYellow);
        out += "  " + pad_right(a.name, namew) + "  " + pad_right(a.job.empty() ? "-" : a.job, jobw) + "  " + state + "  " +
               since(a.active_at, render.now) + "\n";
      }
    }
  }

  if (!s.failures.empty() || !s.warnings.empty()) {
    out += "\n" + style.paint("Query problems", ansi::kBold) + ":\n";
    const bool same = s.failures.size() > 1 && std::all_of(s.failures.begin(), s.failures.end(), [&](const auto& f) {
                        return f.second == s.failures.front().second;
                      });
    if (same) {
      std::string ids;
      for (const auto& f : s.failures) ids += (ids.empty() ? "" : ", ") + f.first;
      out += "  " + style.paint(std::to_string(s.failures.size()) + " queries failed", ansi::kRed) + " (" + ids + "): " +
             s.failures.front().second + "\n";
    } else {
      for (const auto& [id, msg] : s.failures) out += "  " + style.paint(id + " failed: ", ansi::kRed) + msg + "\n";
    }
    for (const auto& w : s.warnings) out += "  warning " + w + "\n";
  }

  if (render.show_promql) {
    out += "\n" + style.paint("PromQL", ansi::kBold) + " (paste into Prometheus > Graph; p50/p99 as p95 with 0.5/0.99):\n";
    for (const auto& q : s.queries) {
      if (q.id == query_id::kP50 || q.id == query_id::kP99) continue;
      out += style.paint("  # " + q.title, ansi::kDim) + "\n  " + q.promql + "\n";
    }
  }
  return out;
}

}  // namespace demo_report
