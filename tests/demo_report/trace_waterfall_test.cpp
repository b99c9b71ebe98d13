// The trace half of demo_report against hand-written OTLP JSON fixtures.
//
// fixtures/ holds three service directories as the SDK's otlp_file exporter
// leaves them, with these traces (T = 2024-05-01 10:00:00 UTC):
//   A 4bf92f35...  T      complete, user->job->image, no error, 8 spans;
//                         its user_svc spans are split over the rotated
//                         traces.1.jsonl and traces.jsonl, its job_svc line
//                         lists the spans out of order        <- the answer
//   B 0af76519...  T+5s   complete, image_svc 500 (error spans)
//   C c0ffee00...  T+10s  user + job only (incomplete)
//   D d0d0d0d0...  T+12s  user_svc GET /users only
//   E e1e1e1e1...  T-5s   complete, no error, older than A
//   F f0f0f0f0...  T+20s  complete but job_svc's client span is missing
// plus a truncated line (job_svc), "this is not json" and a logs request in
// a traces file (image_svc), a span with a bad trace id, a blank line, and
// logs: A's 7 records over 3 services (one in the rotated logs.1.jsonl, one
// WARN given by severityNumber only, out of time order), B's 2, one without
// a trace, and a truncated line that mentions A.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "trace_waterfall.hpp"

namespace fs = std::filesystem;
using namespace demo_report;

namespace {

constexpr const char* kTraceA = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kTraceB = "0af7651916cd43dd8448eb211c80319c";
constexpr const char* kTraceC = "c0ffee00c0ffee00c0ffee00c0ffee00";
constexpr const char* kTraceF = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";
constexpr std::uint64_t kT = 1714557600000000000ull;

fs::path fixtures() { return fs::path(DEMO_REPORT_FIXTURES); }

std::vector<fs::path> fixture_dirs() {
  return {fixtures() / "user_svc", fixtures() / "job_svc", fixtures() / "image_svc"};
}

std::vector<Span> fixture_spans() {
  ReadStats stats;
  return read_spans(fixture_dirs(), stats);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<Span> without_traces(std::vector<Span> spans, std::vector<std::string> ids) {
  spans.erase(std::remove_if(spans.begin(), spans.end(),
                             [&](const Span& s) { return std::find(ids.begin(), ids.end(), s.trace_id) != ids.end(); }),
              spans.end());
  return spans;
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("demo_report_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void touch(const fs::path& p, const std::string& content = "") { std::ofstream(p) << content; }

}  // namespace

TEST(DemoReportRead, RotatedFilesAreListedOldestFirst) {
  auto files = signal_files(fixtures() / "user_svc", "traces");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "traces.1.jsonl");
  EXPECT_EQ(files[1].filename(), "traces.jsonl");

  TempDir dir;
  for (const char* name : {"traces.jsonl", "traces.2.jsonl", "traces.10.jsonl", "traces.1.jsonl", "traces.x.jsonl",
                           "traces.0.jsonl", "tracesjsonl", "traces.jsonl.tmp", "logs.jsonl", "traces.3.json"})
    touch(dir.path / name);
  std::vector<std::string> names;
  for (const auto& p : signal_files(dir.path, "traces")) names.push_back(p.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"traces.10.jsonl", "traces.2.jsonl", "traces.1.jsonl", "traces.jsonl"}));
  EXPECT_TRUE(signal_files(dir.path / "nope", "traces").empty());
}

TEST(DemoReportRead, ReadsEveryDirectoryAndCountsWhatItSkips) {
  ReadStats stats;
  auto dirs = fixture_dirs();
  dirs.push_back(fixtures() / "no_such_service");
  auto spans = read_spans(dirs, stats);
  EXPECT_EQ(stats.dirs, 4u);
  EXPECT_EQ(stats.files, 4u);  // user_svc has two
  EXPECT_EQ(stats.lines, 15u);  // the blank line is not counted
  EXPECT_EQ(stats.malformed_lines, 3u);  // truncated, not JSON, a logs request
  EXPECT_EQ(stats.skipped_items, 1u);  // traceId "abc"
  EXPECT_EQ(spans.size(), 26u);
  ASSERT_EQ(stats.problems.size(), 1u);
  EXPECT_NE(stats.problems[0].find("no_such_service"), std::string::npos);
}

TEST(DemoReportRead, ParsesTheFieldsTheSdkWrites) {
  auto spans = fixture_spans();
  auto it = std::find_if(spans.begin(), spans.end(), [](const Span& s) { return s.span_id == "a800000000000008"; });
  ASSERT_NE(it, spans.end());
  EXPECT_EQ(it->trace_id, kTraceA);
  EXPECT_EQ(it->parent_span_id, "a700000000000007");
  EXPECT_EQ(it->service, "image_svc");
  EXPECT_EQ(it->name, "convert");
  EXPECT_EQ(it->kind, kKindInternal);
  EXPECT_EQ(it->start_ns, kT + 8'000'000);
  EXPECT_EQ(it->duration_ns(), 10'000'000u);
  EXPECT_FALSE(it->is_error());
  EXPECT_TRUE(it->attributes.empty());  // kept for error spans only

  auto b7 = std::find_if(spans.begin(), spans.end(), [](const Span& s) { return s.span_id == "b700000000000007"; });
  ASSERT_NE(b7, spans.end());
  EXPECT_TRUE(b7->is_error());
  EXPECT_EQ(b7->status_message, "invalid PPM header");
  Attributes expected{{"http.route", "/image_svc/ConvertImage"}, {"http.response.status_code", "500"}, {"error.type", "500"}};
  EXPECT_EQ(b7->attributes, expected);
}

TEST(DemoReportRead, LineParserToleratesOtherSpellingsAndRejectsOtherShapes) {
  std::vector<Span> out;
  // Enum names, upper-case hex, numbers for times, no resource.
  const std::string line =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4BF92F3577B34DA6A3CE929D0E0E4736",)"
      R"("spanId":"00F067AA0BA902B7","parentSpanId":"","name":"x","kind":"SPAN_KIND_SERVER",)"
      R"("startTimeUnixNano":1000,"endTimeUnixNano":"3000","status":{"code":"STATUS_CODE_ERROR"}}]}]}]})";
  ASSERT_TRUE(parse_traces_line(line, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].trace_id, kTraceA);
  EXPECT_EQ(out[0].span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(out[0].parent_span_id.empty());
  EXPECT_EQ(out[0].service, "");
  EXPECT_EQ(out[0].kind, kKindServer);
  EXPECT_EQ(out[0].duration_ns(), 2000u);
  EXPECT_TRUE(out[0].is_error());

  out.clear();
  for (const char* bad : {"", "[]", "{}", "null", R"({"resourceSpans":{}})", R"({"resourceSpans":[1]})", "{\"resourceSpans\":["})
    EXPECT_FALSE(parse_traces_line(bad, out)) << bad;
  EXPECT_TRUE(out.empty());
  // An all-zero parent is no parent; a span without a start time is skipped.
  std::size_t skipped = 0;
  ASSERT_TRUE(parse_traces_line(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[)"
      R"({"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","parentSpanId":"0000000000000000","startTimeUnixNano":"5"},)"
      R"({"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b8"}]}]}]})",
      out, &skipped));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].parent_span_id.empty());
  EXPECT_EQ(skipped, 1u);
}

TEST(DemoReportPick, ChoosesTheMostRecentCompleteErrorFreeTrace) {
  std::string why_not;
  auto trace = pick_trace(fixture_spans(), PickOptions{}, &why_not);
  ASSERT_TRUE(trace) << why_not;
  EXPECT_EQ(trace->trace_id, kTraceA);  // not B (error), C/D (incomplete), E (older), F (missing parent)
  EXPECT_EQ(trace->spans.size(), 8u);
  EXPECT_EQ(trace->services, (std::vector<std::string>{"user_svc", "job_svc", "image_svc"}));
  EXPECT_EQ(trace->traces_seen, 6u);
  EXPECT_EQ(trace->complete_traces, 4u);  // A, B, E, F
  EXPECT_NE(trace->reason.find("most recent of 4 complete traces"), std::string::npos) << trace->reason;
}

TEST(DemoReportPick, FallsBackToACompleteTraceWithErrors) {
  auto spans = without_traces(fixture_spans(), {kTraceA, "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"});
  auto trace = pick_trace(spans, PickOptions{});
  ASSERT_TRUE(trace);
  // B (intact, with errors) ranks above the more recent F (a parent missing).
  EXPECT_EQ(trace->trace_id, kTraceB);
  EXPECT_NE(trace->reason.find("has error spans"), std::string::npos) << trace->reason;

  spans = without_traces(spans, {kTraceB});
  trace = pick_trace(spans, PickOptions{});
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->trace_id, kTraceF);
  EXPECT_NE(trace->reason.find("parents missing"), std::string::npos) << trace->reason;
}

TEST(DemoReportPick, NoCompleteTraceSaysWhy) {
  auto spans = without_traces(fixture_spans(), {kTraceA, kTraceB, kTraceF, "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"});
  std::string why_not;
  EXPECT_FALSE(pick_trace(spans, PickOptions{}, &why_not));
  EXPECT_NE(why_not.find("no trace has spans from all of user_svc, job_svc, image_svc"), std::string::npos) << why_not;
  EXPECT_NE(why_not.find("services seen: job_svc, user_svc"), std::string::npos) << why_not;

  EXPECT_FALSE(pick_trace({}, PickOptions{}, &why_not));
  EXPECT_EQ(why_not, "no spans in the traces files");
}

TEST(DemoReportPick, TraceIdOptionTakesThatTrace) {
  PickOptions options;
  options.trace_id = kTraceC;
  auto trace = pick_trace(fixture_spans(), options);
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->trace_id, kTraceC);
  EXPECT_NE(trace->reason.find("incomplete: no spans from image_svc"), std::string::npos) << trace->reason;

  options.trace_id = "0123456789abcdef0123456789abcdef";
  std::string why_not;
  EXPECT_FALSE(pick_trace(fixture_spans(), options, &why_not));
  EXPECT_NE(why_not.find("not in the traces files"), std::string::npos);
}

TEST(DemoReportPick, DuplicateSpansAreShownOnce) {
  auto spans = fixture_spans();
  auto extra = spans;  // every span exported twice (e.g. the same dir given twice)
  spans.insert(spans.end(), extra.begin(), extra.end());
  auto trace = pick_trace(spans, PickOptions{});
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->trace_id, kTraceA);
  EXPECT_EQ(trace->spans.size(), 8u);
}

TEST(DemoReportWaterfall, TreeOrderDepthOffsetsAndDurations) {
  auto trace = pick_trace(fixture_spans(), PickOptions{});
  ASSERT_TRUE(trace);
  const Timeline tl = timeline_of(*trace);
  EXPECT_EQ(tl.origin_ns, kT);
  EXPECT_EQ(tl.total_ns, 25'000'000u);

  struct Expect {
    const char* span_id;
    int depth;
    const char* service;
    const char* offset;
    const char* duration;
  };
  const Expect expected[] = {
      {"a100000000000001", 0, "user_svc", "0.000", "25.000"},  {"a200000000000002", 1, "user_svc", "1.000", "23.000"},
      {"a300000000000003", 2, "job_svc", "2.000", "21.000"},   {"a400000000000004", 3, "job_svc", "3.000", "2.500"},
      {"a500000000000005", 3, "job_svc", "6.000", "14.000"},   {"a700000000000007", 4, "image_svc", "7.000", "12.000"},
      {"a800000000000008", 5, "image_svc", "8.000", "10.000"}, {"a600000000000006", 3, "job_svc", "20.500", "1.500"},
  };
  auto rows = waterfall_rows(trace->spans);
  ASSERT_EQ(rows.size(), std::size(expected));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Span& s = trace->spans[rows[i].index];
    SCOPED_TRACE(expected[i].span_id);
    EXPECT_EQ(s.span_id, expected[i].span_id);
    EXPECT_EQ(rows[i].depth, expected[i].depth);
    EXPECT_FALSE(rows[i].orphan);
    EXPECT_EQ(s.service, expected[i].service);
    EXPECT_EQ(format_ms(static_cast<std::int64_t>(s.start_ns - tl.origin_ns)), expected[i].offset);
    EXPECT_EQ(format_ms(static_cast<std::int64_t>(s.duration_ns())), expected[i].duration);
  }
}

TEST(DemoReportWaterfall, RendersRowsAndBarsWithinTheWidth) {
  auto trace = pick_trace(fixture_spans(), PickOptions{});
  ASSERT_TRUE(trace);
  for (int width : {80, 100, 132}) {
    SCOPED_TRACE(width);
    RenderOptions options;
    options.width = width;
    const std::string text = render_waterfall(*trace, options);
    EXPECT_EQ(text.find('\x1b'), std::string::npos);  // no colour unless asked
    auto lines = lines_of(text);
    ASSERT_GE(lines.size(), 13u);
    EXPECT_EQ(lines[0].rfind(std::string("Trace ") + kTraceA + ": 8 spans, 3 services, 25.000 ms, started 2024-05-01 10:00:00.000 UTC", 0), 0u)
        << lines[0];
    // The table: header, 8 rows, legend.
    auto header = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("  service", 0) == 0; });
    ASSERT_NE(header, lines.end());
    for (auto it = header; it != header + 10; ++it) EXPECT_LE(it->size(), static_cast<std::size_t>(width)) << *it;
    const std::string& root = *(header + 1);
    EXPECT_EQ(root.rfind("  user_svc  srv POST /users/{id}/jobs", 0), 0u) << root;
    // The root's bar fills the scale; the last row (UPDATE, 20.5-22 ms of 25) sits at the right.
    const auto bar_of = [](const std::string& l) { return l.substr(l.find('|') + 1, l.rfind('|') - l.find('|') - 1); };
    const std::string root_bar = bar_of(root);
    EXPECT_GE(root_bar.size(), 16u);
    EXPECT_LE(root_bar.size(), 40u);
    EXPECT_EQ(root_bar, std::string(root_bar.size(), '#'));
    const std::string last_bar = bar_of(*(header + 8));
    EXPECT_NE((header + 8)->find("      UPDATE obs_demo.j"), std::string::npos) << *(header + 8);
    EXPECT_EQ(last_bar.find('#'), static_cast<std::size_t>(20.5 / 25 * static_cast<double>(last_bar.size())));
    EXPECT_NE((header + 7)->find("image_svc int           convert"), std::string::npos) << *(header + 7);
    EXPECT_NE((header + 7)->find("8.000    10.000 |"), std::string::npos) << *(header + 7);
    EXPECT_EQ(text.find("Errors:"), std::string::npos);
  }
}

TEST(DemoReportWaterfall, MarksErrorSpans) {
  PickOptions options;
  options.trace_id = kTraceB;
  auto trace = pick_trace(fixture_spans(), options);
  ASSERT_TRUE(trace);
  const std::string text = render_waterfall(*trace, RenderOptions{});
  auto lines = lines_of(text);
  auto image = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("POST /image_svc") != std::string::npos; });
  ASSERT_NE(image, lines.end());
  EXPECT_EQ(image->rfind("! image_svc", 0), 0u) << *image;
  EXPECT_NE(image->find("|   "), std::string::npos);
  EXPECT_NE(image->find('x'), std::string::npos);
  EXPECT_EQ(image->find('#'), std::string::npos);
  EXPECT_NE(text.find("Errors:\n"), std::string::npos);
  EXPECT_NE(text.find("image_svc \"POST /image_svc/ConvertImage\" [b7000000]: invalid PPM header "
                      "(http.response.status_code=500, error.type=500)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("job_svc \"POST\" [b5000000]: status ERROR (http.response.status_code=500)"), std::string::npos) << text;

  RenderOptions color;
  color.color = true;
  EXPECT_NE(render_waterfall(*trace, color).find("\x1b[31m"), std::string::npos);
}

TEST(DemoReportWaterfall, OrphansAndCyclesAreShownNotLost) {
  PickOptions options;
  options.trace_id = kTraceF;
  auto trace = pick_trace(fixture_spans(), options);
  ASSERT_TRUE(trace);
  auto rows = waterfall_rows(trace->spans);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(trace->spans[rows[3].index].span_id, "f700000000000007");
  EXPECT_TRUE(rows[3].orphan);
  EXPECT_EQ(rows[3].depth, 0);
  EXPECT_NE(render_waterfall(*trace, RenderOptions{}).find("? image_svc"), std::string::npos);

  // Two spans that are each other's parent, and one that is its own.
  std::vector<Span> spans(3);
  spans[0].span_id = "0000000000000001";
  spans[0].parent_span_id = "0000000000000002";
  spans[1].span_id = "0000000000000002";
  spans[1].parent_span_id = "0000000000000001";
  spans[2].span_id = "0000000000000003";
  spans[2].parent_span_id = "0000000000000003";
  EXPECT_EQ(waterfall_rows(spans).size(), 3u);
}

TEST(DemoReportLogs, MatchesTheTraceAcrossDirectoriesInTimeOrder) {
  ReadStats stats;
  auto dirs = fixture_dirs();
  dirs.push_back(fixtures() / "no_such_service");
  auto logs = read_logs(dirs, kTraceA, stats);
  EXPECT_EQ(stats.files, 4u);
  EXPECT_EQ(stats.malformed_lines, 1u);  // the truncated job_svc line that mentions A
  ASSERT_EQ(logs.size(), 7u);
  struct Expect {
    std::uint64_t offset_us;
    const char* service;
    const char* severity;
    const char* body;
    const char* span;
  };
  const Expect expected[] = {
      {500, "user_svc", "INFO", "job request received", "a100000000000001"},
      {5400, "job_svc", "WARN", "slow insert", "a400000000000004"},  // severityNumber 13 only
      {5600, "job_svc", "INFO", "job created", "a300000000000003"},
      {8200, "image_svc", "DEBUG", "converting image", "a800000000000008"},
      {18500, "image_svc", "INFO", "image converted", "a700000000000007"},
      {20200, "job_svc", "INFO", "image converted, job done", "a300000000000003"},
      {24500, "user_svc", "INFO", "job accepted", "a100000000000001"},
  };
  for (std::size_t i = 0; i < logs.size(); ++i) {
    SCOPED_TRACE(expected[i].body);
    EXPECT_EQ(logs[i].time_ns, kT + expected[i].offset_us * 1000);
    EXPECT_EQ(logs[i].service, expected[i].service);
    EXPECT_EQ(logs[i].severity, expected[i].severity);
    EXPECT_EQ(logs[i].body, expected[i].body);
    EXPECT_EQ(logs[i].span_id, expected[i].span);
    EXPECT_EQ(logs[i].trace_id, kTraceA);
  }

  ReadStats b_stats;
  auto b_logs = read_logs(fixture_dirs(), kTraceB, b_stats);
  ASSERT_EQ(b_logs.size(), 2u);
  EXPECT_EQ(b_logs[0].body, "invalid PPM header");
  EXPECT_EQ(b_logs[1].body, "image conversion failed");
}

TEST(DemoReportLogs, RendersOneLinePerRecord) {
  auto trace = pick_trace(fixture_spans(), PickOptions{});
  ASSERT_TRUE(trace);
  ReadStats stats;
  auto logs = read_logs(fixture_dirs(), trace->trace_id, stats);
  RenderOptions options;
  options.width = 80;
  const std::string text = render_logs(*trace, logs, options);
  auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 9u) << text;
  EXPECT_EQ(lines[0], "Logs of this trace (7 records, by time):");
  EXPECT_EQ(lines[2], "      0.500 user_svc  INFO  a1000000  job request received  user_id=42");  // thread.id left out
  EXPECT_EQ(lines[3], "      5.400 job_svc   WARN  a4000000  slow insert  duration_seconds=0.0025");
  EXPECT_EQ(lines[8], "     24.500 user_svc  INFO  a1000000  job accepted  job_id=17");
  for (const auto& l : lines) EXPECT_LE(l.size(), 80u) << l;

  EXPECT_EQ(render_logs(*trace, {}, options), std::string("No log records of trace ") + kTraceA + " in the logs files.\n");
}

TEST(DemoReportRead, StreamsABigFile) {
  TempDir dir;
  // ~20 MB: 40000 lines of 4 spans each; only the last trace is complete.
  {
    std::ofstream out(dir.path / "traces.jsonl");
    const std::string pad(300, 'p');
    for (int i = 0; i < 40000; ++i) {
      char trace_id[33];
      std::snprintf(trace_id, sizeof trace_id, "%032x", i + 1);
      out << R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"user_svc"}}]},"scopeSpans":[{"spans":[)";
      for (int j = 0; j < 4; ++j) {
        if (j) out << ',';
        out << R"({"traceId":")" << trace_id << R"(","spanId":"000000000000000)" << j + 1 << R"(",)"
            << (j ? R"("parentSpanId":"0000000000000001",)" : "") << R"("name":"POST /users/{id}/jobs","kind":2,)"
            << R"("startTimeUnixNano":")" << kT + static_cast<std::uint64_t>(i) * 1000000 + static_cast<std::uint64_t>(j)
            << R"(","endTimeUnixNano":")" << kT + static_cast<std::uint64_t>(i) * 1000000 + 500000
            << R"(","attributes":[{"key":"pad","value":{"stringValue":")" << pad << R"("}}]})";
      }
      out << "]}]}]}\n";
    }
  }
  EXPECT_GT(fs::file_size(dir.path / "traces.jsonl"), 15'000'000u);
  ReadStats stats;
  auto spans = read_spans({dir.path}, stats);
  EXPECT_EQ(spans.size(), 160000u);
  EXPECT_EQ(stats.malformed_lines, 0u);
  PickOptions options;
  options.services = {"user_svc"};
  auto trace = pick_trace(spans, options);
  ASSERT_TRUE(trace);
  EXPECT_EQ(trace->trace_id, "00000000000000000000000000009c40");  // the most recent (40000)
  EXPECT_EQ(trace->spans.size(), 4u);
}
