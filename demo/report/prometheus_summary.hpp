#pragma once
// The metrics half of demo_report: a per-service summary read back from
// Prometheus's HTTP API (instant queries on /api/v1/query, firing alerts
// from /api/v1/alerts).
//
// The HTTP call is behind Fetcher so tests replay recorded answers. One
// failing query gives a message for that query and "-" in its cells; a
// transport failure (Prometheus unreachable) stops further requests.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace demo_report {

// ---------------------------------------------------------------- HTTP

struct HttpAnswer {
  bool transport_ok = false;  // false: no HTTP answer at all (refused, timeout, ...)
  int status = 0;
  std::string body;
  std::string error;  // transport error text when !transport_ok
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;
// GET <base><path>?<params> (params URL-encoded by the fetcher).
using Fetcher = std::function<HttpAnswer(const std::string& path, const QueryParams& params)>;

// A Fetcher over cpp-httplib for a base URL "http://host:port[/prefix]"
// (https too). Empty (and *error set) when the URL is not usable.
Fetcher http_fetcher(const std::string& base_url, std::string* error, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// ---------------------------------------------------------------- parsing

struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;  // may be NaN or +-Inf ("NaN", "+Inf", "-Inf" in the API)
};

struct QueryResult {
  bool ok = false;
  std::string error;  // when !ok: Prometheus's errorType: error, or what was wrong with the answer
  std::string result_type;
  std::vector<Sample> samples;  // a scalar answer is one sample without labels
  std::vector<std::string> warnings;
};

// Parses a /api/v1/query answer (any HTTP status: Prometheus puts its error
// JSON in 400/422/503 answers too).
QueryResult parse_query_response(std::string_view body, int http_status);

struct Alert {
  std::string name;   // labels.alertname
  std::string job;    // labels.job ("" when the rule has none)
  std::string state;  // firing | pending
  std::string active_at;  // RFC 3339, as given
  std::string severity;   // labels.severity, if any
};

struct AlertsResult {
  bool ok = false;
  std::string error;
  std::vector<Alert> alerts;  // firing first, then by name
};

AlertsResult parse_alerts_response(std::string_view body, int http_status);

// ---------------------------------------------------------------- summary

struct SummaryOptions {
  std::vector<std::string> services{"user_svc", "job_svc", "image_svc"};
  std::string window = "1m";  // PromQL range, e.g. 30s, 1m, 5m
};

// Ids of the queries, in the order they run.
namespace query_id {
inline constexpr std::string_view kRate = "rate";
inline constexpr std::string_view kP50 = "p50";
inline constexpr std::string_view kP95 = "p95";
inline constexpr std::string_view kP99 = "p99";
inline constexpr std::string_view kErrors = "errors";
inline constexpr std::string_view kDbRate = "db_rate";
inline constexpr std::string_view kDbP95 = "db_p95";
inline constexpr std::string_view kConvRate = "conv_rate";
inline constexpr std::string_view kConvP95 = "conv_p95";
}  // namespace query_id

struct NamedQuery {
  std::string id;
  std::string title;   // what it measures, for the legend
  std::string promql;  // paste-able into Prometheus
};

// The PromQL the summary runs, all "sum by (job)" over the services.
std::vector<NamedQuery> summary_queries(const SummaryOptions& options);

// True when a service name can go into a PromQL regex unescaped-ish
// ([A-Za-z0-9_.:-]) and a window is a PromQL duration.
bool valid_service_name(std::string_view name);
bool valid_window(std::string_view window);

struct ServiceRow {
  std::string job;
  std::optional<double> rate;         // req/s, admin routes excluded
  std::optional<double> p50, p95, p99;  // seconds
  std::optional<double> error_ratio;  // 0..1
};

struct ComponentRow {  // DB client or image conversion, per job that has it
  std::string job;
  std::optional<double> rate;  // per second
  std::optional<double> p95;   // seconds
};

struct Summary {
  bool reachable = true;
  std::string unreachable_reason;
  std::vector<NamedQuery> queries;
  std::vector<ServiceRow> services;     // one per requested service, in order
  std::vector<ComponentRow> db;         // jobs with PostgreSQL client data
  std::vector<ComponentRow> conversions;  // jobs with image conversion data
  std::vector<std::pair<std::string, std::string>> failures;  // query id -> message
  std::vector<std::string> warnings;
  bool alerts_ok = false;
  std::string alerts_error;
  std::vector<Alert> alerts;
};

// Runs every query (stops at the first transport failure) and the alerts
// request, and fills the rows.
Summary collect_summary(const Fetcher& fetch, const SummaryOptions& options);

// Builds the rows from answers already parsed (query id -> result); what
// collect_summary does after fetching. Missing ids count as not run.
void fill_summary(Summary& summary, const std::map<std::string, QueryResult>& results, const SummaryOptions& options);

struct SummaryRenderOptions {
  int width = 100;
  bool color = false;
  bool show_promql = true;
  std::string base_url;  // shown in the header
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();  // for alert ages
};

std::string render_summary(const Summary& summary, const SummaryOptions& options, const SummaryRenderOptions& render);

}  // namespace demo_report
