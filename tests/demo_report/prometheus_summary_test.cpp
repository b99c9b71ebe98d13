// The Prometheus half of demo_report: parsing recorded /api/v1/query and
// /api/v1/alerts answers (fixtures/prometheus/), turning them into summary
// rows, rendering, and the HTTP client against a stand-in server.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <chrono>
#include <thread>

#include "prometheus_summary.hpp"

using namespace demo_report;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(DEMO_REPORT_FIXTURES) + "/prometheus/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string promql(std::string_view id, const SummaryOptions& options = {}) {
  for (const auto& q : summary_queries(options))
    if (q.id == id) return q.promql;
  ADD_FAILURE() << "no query " << id;
  return {};
}

HttpAnswer ok(std::string body, int status = 200) {
  HttpAnswer a;
  a.transport_ok = true;
  a.status = status;
  a.body = std::move(body);
  return a;
}

// A Fetcher answering each summary query (by id) with a recorded body.
struct FakePrometheus {
  std::map<std::string, HttpAnswer> by_query;  // PromQL -> answer
  HttpAnswer alerts = ok(R"({"status":"success","data":{"alerts":[]}})");
  std::vector<std::string> requests;

  void answer(std::string_view id, HttpAnswer a) { by_query[promql(id)] = std::move(a); }

  Fetcher fetcher() {
    return [this](const std::string& path, const QueryParams& params) {
      requests.push_back(path);
      if (path == "/api/v1/alerts") return alerts;
      EXPECT_EQ(path, "/api/v1/query");
      EXPECT_EQ(params.size(), 1u);
      auto it = by_query.find(params.at(0).second);
      return it == by_query.end() ? ok(fixture("query_empty.json")) : it->second;
    };
  }
};

}  // namespace

TEST(DemoReportPromParse, Vector) {
  auto r = parse_query_response(fixture("query_rate_vector.json"), 200);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result_type, "vector");
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_EQ(r.samples[0].labels.at("job"), "user_svc");
  EXPECT_DOUBLE_EQ(r.samples[0].value, 9.866666666666667);
  EXPECT_EQ(r.samples[2].labels.at("job"), "image_svc");
}

TEST(DemoReportPromParse, EmptyResult) {
  auto r = parse_query_response(fixture("query_empty.json"), 200);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.samples.empty());
}

TEST(DemoReportPromParse, NaNAndInfinityValues) {
  auto r = parse_query_response(fixture("query_p50_nan.json"), 200);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_TRUE(std::isnan(r.samples[2].value));
  auto inf = parse_query_response(fixture("query_p95_inf.json"), 200);
  ASSERT_TRUE(inf.ok);
  EXPECT_TRUE(std::isinf(inf.samples[1].value) && inf.samples[1].value > 0);
}

TEST(DemoReportPromParse, ErrorStatus) {
  auto r = parse_query_response(fixture("query_error.json"), 400);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("bad_data: invalid parameter \"query\": 1:46: parse error", 0), 0u) << r.error;
}

TEST(DemoReportPromParse, AnswersThatAreNotTheApi) {
  auto html = parse_query_response("<html><body>502 Bad Gateway</body></html>", 502);
  EXPECT_FALSE(html.ok);
  EXPECT_EQ(html.error, "HTTP 502, not JSON: <html><body>502 Bad Gateway</body></html>");
  EXPECT_FALSE(parse_query_response("", 200).ok);
  EXPECT_FALSE(parse_query_response(R"({"status":"success"})", 200).ok);
  EXPECT_FALSE(parse_query_response(R"({"foo":1})", 200).ok);
  auto matrix = parse_query_response(fixture("query_matrix.json"), 200);
  EXPECT_FALSE(matrix.ok);
  EXPECT_NE(matrix.error.find("'matrix'"), std::string::npos);
  auto scalar = parse_query_response(fixture("query_scalar.json"), 200);
  ASSERT_TRUE(scalar.ok);
  ASSERT_EQ(scalar.samples.size(), 1u);
  EXPECT_EQ(scalar.samples[0].value, 42);
  // A sample whose value cannot be read is left out, not fatal.
  auto odd = parse_query_response(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1,"x"]},{"metric":{"job":"b"},"value":[1,"2"]}]}})",
      200);
  ASSERT_TRUE(odd.ok);
  ASSERT_EQ(odd.samples.size(), 1u);
  EXPECT_EQ(odd.samples[0].labels.at("job"), "b");
}

TEST(DemoReportPromParse, Alerts) {
  auto r = parse_alerts_response(fixture("alerts.json"), 200);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.alerts.size(), 2u);
  EXPECT_EQ(r.alerts[0].name, "ImageSvcHighErrorRate");  // firing first
  EXPECT_EQ(r.alerts[0].state, "firing");
  EXPECT_EQ(r.alerts[0].job, "image_svc");
  EXPECT_EQ(r.alerts[0].active_at, "2024-05-01T09:58:48.123456789Z");
  EXPECT_EQ(r.alerts[1].name, "JobSvcSlowDatabase");
  EXPECT_EQ(r.alerts[1].state, "pending");
  EXPECT_FALSE(parse_alerts_response(R"({"status":"success","data":{}})", 200).ok);
}

TEST(DemoReportPromQueries, PromqlIsWhatTheContractSays) {
  auto queries = summary_queries(SummaryOptions{});
  ASSERT_EQ(queries.size(), 9u);
  EXPECT_EQ(promql(query_id::kRate),
            "sum by (job) (rate(http_server_request_duration_seconds_count{job=~\"user_svc|job_svc|image_svc\","
            "http_route!~\"/metrics|/health|/health/ready\"}[1m]))");
  EXPECT_EQ(promql(query_id::kP95),
            "histogram_quantile(0.95, sum by (job, le) (rate(http_server_request_duration_seconds_bucket{job=~\"user_svc|"
            "job_svc|image_svc\",http_route!~\"/metrics|/health|/health/ready\"}[1m])))");
  EXPECT_NE(promql(query_id::kErrors).find("http_response_status_code=~\"5..\""), std::string::npos);
  EXPECT_NE(promql(query_id::kDbP95).find("db_client_operation_duration_seconds_bucket{job=~\"user_svc|job_svc|image_svc\","
                                          "db_system_name=\"postgresql\"}[1m]"),
            std::string::npos);
  EXPECT_NE(promql(query_id::kConvP95).find("image_svc_conversion_duration_seconds_bucket"), std::string::npos);

  SummaryOptions other;
  other.services = {"a.b", "c"};
  other.window = "30s";
  EXPECT_NE(promql(query_id::kRate, other).find("job=~\"a\\\\.b|c\""), std::string::npos) << promql(query_id::kRate, other);
  EXPECT_NE(promql(query_id::kRate, other).find("[30s]"), std::string::npos);
}

TEST(DemoReportPromQueries, Validation) {
  for (const char* w : {"1m", "30s", "500ms", "1h30m", "2d"}) EXPECT_TRUE(valid_window(w)) << w;
  for (const char* w : {"", "1", "m", "1x", "1m]", "-1m", "1m 2s"}) EXPECT_FALSE(valid_window(w)) << w;
  EXPECT_TRUE(valid_service_name("user_svc"));
  EXPECT_TRUE(valid_service_name("svc-1.prod:x"));
  EXPECT_FALSE(valid_service_name(""));
  EXPECT_FALSE(valid_service_name("a\"b"));
  EXPECT_FALSE(valid_service_name("a|b"));
}

TEST(DemoReportSummary, RowsFromRecordedAnswers) {
  FakePrometheus prom;
  prom.answer(query_id::kRate, ok(fixture("query_rate_vector.json")));
  prom.answer(query_id::kP50, ok(fixture("query_p50_nan.json")));
  prom.answer(query_id::kP95, ok(fixture("query_p95_inf.json")));
  prom.answer(query_id::kP99, ok(fixture("query_error.json"), 400));
  prom.answer(query_id::kErrors, ok(fixture("query_errors_ratio.json")));
  prom.answer(query_id::kDbRate, ok(fixture("query_db_rate.json")));
  prom.answer(query_id::kDbP95, ok(fixture("query_db_p95.json")));
  // conv_rate / conv_p95: empty results (the default answer)
  prom.alerts = ok(fixture("alerts.json"));

  const auto s = collect_summary(prom.fetcher(), SummaryOptions{});
  EXPECT_TRUE(s.reachable);
  EXPECT_EQ(prom.requests.size(), 10u);  // 9 queries + alerts
  ASSERT_EQ(s.services.size(), 3u);

  const auto& user = s.services[0];
  EXPECT_EQ(user.job, "user_svc");
  EXPECT_DOUBLE_EQ(*user.rate, 9.866666666666667);
  EXPECT_DOUBLE_EQ(*user.p50, 0.0031);
  EXPECT_DOUBLE_EQ(*user.p95, 0.0124);
  EXPECT_FALSE(user.p99);  // the query failed
  EXPECT_DOUBLE_EQ(*user.error_ratio, 0.0);

  const auto& job = s.services[1];
  EXPECT_TRUE(std::isinf(*job.p95));
  EXPECT_FALSE(job.error_ratio);  // NaN (no requests) -> no data

  const auto& image = s.services[2];
  EXPECT_FALSE(image.p50);  // NaN
  EXPECT_DOUBLE_EQ(*image.error_ratio, 0.05);

  ASSERT_EQ(s.db.size(), 1u);
  EXPECT_EQ(s.db[0].job, "job_svc");
  EXPECT_DOUBLE_EQ(*s.db[0].rate, 19.6);
  EXPECT_DOUBLE_EQ(*s.db[0].p95, 0.00185);
  EXPECT_TRUE(s.conversions.empty());

  ASSERT_EQ(s.failures.size(), 1u);
  EXPECT_EQ(s.failures[0].first, "p99");
  ASSERT_TRUE(s.alerts_ok);
  EXPECT_EQ(s.alerts.size(), 2u);

  SummaryRenderOptions render;
  render.base_url = "http://127.0.0.1:9090";
  render.now = std::chrono::system_clock::time_point(std::chrono::seconds(1714557600));  // 10:00:00Z
  const std::string text = render_summary(s, SummaryOptions{}, render);
  EXPECT_NE(text.find("Prometheus http://127.0.0.1:9090: rates and latencies over the last 1m"), std::string::npos);
  EXPECT_NE(text.find("  service       req/s    p50 ms    p95 ms    p99 ms     5xx %\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  user_svc       9.87      3.10      12.4         -      0.00\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  job_svc        9.80      2.40      +Inf         -         -\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  image_svc      9.73         -     0.875         -      5.00\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  PostgreSQL queries  queries/s    p95 ms\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  job_svc                  19.6      1.85\n"), std::string::npos) << text;
  EXPECT_NE(text.find("no data in the window"), std::string::npos);
  EXPECT_NE(text.find("Alerts: 1 firing, 1 pending"), std::string::npos);
  EXPECT_NE(text.find("ImageSvcHighErrorRate  image_svc  firing    09:58:48 UTC (for 1m12s)"), std::string::npos) << text;
  EXPECT_NE(text.find("JobSvcSlowDatabase     job_svc    pending   10:00:30 UTC (for 0s)"), std::string::npos) << text;
  EXPECT_NE(text.find("p99 failed: bad_data: invalid parameter"), std::string::npos);
  EXPECT_NE(text.find(promql(query_id::kRate)), std::string::npos);
  EXPECT_EQ(text.find(promql(query_id::kP99)), std::string::npos);  // "as p95 with 0.99"
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(DemoReportSummary, UnreachableStopsAtTheFirstRequest) {
  int calls = 0;
  Fetcher down = [&](const std::string&, const QueryParams&) {
    ++calls;
    HttpAnswer a;
    a.error = "cannot connect";
    return a;
  };
  const auto s = collect_summary(down, SummaryOptions{});
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(s.reachable);
  EXPECT_EQ(s.unreachable_reason, "cannot connect");
  EXPECT_FALSE(s.alerts_ok);
  ASSERT_EQ(s.services.size(), 3u);  // rows exist, all empty
  EXPECT_FALSE(s.services[0].rate);
  SummaryRenderOptions render;
  render.base_url = "http://127.0.0.1:1";
  EXPECT_NE(render_summary(s, SummaryOptions{}, render).find("unreachable: cannot connect"), std::string::npos);
}

TEST(DemoReportSummary, AlertsFailureIsReportedNotFatal) {
  FakePrometheus prom;
  prom.alerts = ok("404 page not found", 404);
  const auto s = collect_summary(prom.fetcher(), SummaryOptions{});
  EXPECT_TRUE(s.reachable);
  EXPECT_FALSE(s.alerts_ok);
  EXPECT_EQ(s.alerts_error, "HTTP 404, not JSON: 404 page not found");
  SummaryRenderOptions render;
  EXPECT_NE(render_summary(s, SummaryOptions{}, render).find("cannot read /api/v1/alerts: HTTP 404"), std::string::npos);
}

// The real HTTP client against a stand-in Prometheus (cpp-httplib server on
// a free loopback port), under a path prefix: PromQL must arrive intact.
TEST(DemoReportSummary, HttpFetcherAgainstAStandInServer) {
  httplib::Server server;
  std::vector<std::string> queries;
  std::mutex mu;
  server.Get("/prom/api/v1/query", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mu);
      queries.push_back(req.get_param_value("query"));
    }
    if (req.get_param_value("query") == promql(query_id::kRate)) res.set_content(fixture("query_rate_vector.json"), "application/json");
    else if (req.get_param_value("query") == promql(query_id::kP99)) {
      res.status = 400;
      res.set_content(fixture("query_error.json"), "application/json");
    } else res.set_content(fixture("query_empty.json"), "application/json");
  });
  server.Get("/prom/api/v1/alerts", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(fixture("alerts.json"), "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::string error;
  auto fetch = http_fetcher("http://127.0.0.1:" + std::to_string(port) + "/prom/", &error);
  ASSERT_TRUE(fetch) << error;
  const auto s = collect_summary(fetch, SummaryOptions{});
  server.stop();
  thread.join();

  EXPECT_TRUE(s.reachable) << s.unreachable_reason;
  EXPECT_EQ(queries.size(), 9u);
  ASSERT_EQ(s.services.size(), 3u);
  EXPECT_DOUBLE_EQ(*s.services[1].rate, 9.8);
  ASSERT_EQ(s.failures.size(), 1u);
  EXPECT_EQ(s.failures[0].first, "p99");
  EXPECT_EQ(s.alerts.size(), 2u);

  // Nothing listens there any more.
  auto gone = http_fetcher("http://127.0.0.1:" + std::to_string(port), &error, std::chrono::milliseconds(500));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(collect_summary(gone, SummaryOptions{}).reachable);

  for (const char* bad : {"127.0.0.1:9090", "ftp://x", "http://"}) {
    error.clear();
    EXPECT_FALSE(http_fetcher(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}
