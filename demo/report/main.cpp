// demo_report: what scripts/demo.sh prints at the end of the native demo.
//
//  1. A per-service summary read back from Prometheus's HTTP API: request
//     rate, p50/p95/p99 latency, 5xx share, PostgreSQL query p95 and rate,
//     image conversion p95, firing and pending alerts, and the PromQL used.
//  2. One complete user_svc -> job_svc -> image_svc trace as a text
//     waterfall, from the services' OTLP JSON lines files, with its logs.
//
// Exit status: 0 when both parts printed; 1 when Prometheus was unreachable
// or no complete trace was found (one line on stderr says which); 2 for a
// usage error.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prometheus_summary.hpp"
#include "trace_waterfall.hpp"

namespace {

constexpr const char* kUsage = R"(usage: demo_report --prometheus URL --otlp-dir DIR [--otlp-dir DIR ...] [options]

Prints a summary of the demo services read back from Prometheus, then one
complete user_svc -> job_svc -> image_svc trace (as a waterfall) and its log
lines, read from the OTLP JSON lines files (traces*.jsonl, logs*.jsonl) in
the --otlp-dir directories.

  --prometheus URL     Prometheus base URL, e.g. http://127.0.0.1:9090
                       (omit to skip the summary)
  --otlp-dir DIR       a directory with traces.jsonl / logs.jsonl; repeat it,
                       one per service (omit to skip the trace)
  --window DUR         PromQL rate window (default 1m)
  --services A,B,C     services = Prometheus jobs = service.name
                       (default user_svc,job_svc,image_svc); a trace is
                       complete when it has spans from all of them
  --root-span NAME     preferred root span of the first service
                       (default "POST /users/{id}/jobs")
  --trace-id ID        show this trace instead of choosing one
  --width N            output width (default: the terminal's, else $COLUMNS,
                       else 100)
  --timeout SECS       per-request timeout for Prometheus (default 5)
  --no-promql          do not print the PromQL legend
  --no-color           no ANSI colours (also when NO_COLOR is set or
                       stdout is not a terminal)
  -h, --help           this text

Exit status: 0 summary and trace printed; 1 Prometheus unreachable or no
complete trace found (reason on stderr); 2 usage error.
)";

struct Args {
  std::string prometheus;
  std::vector<std::filesystem::path> otlp_dirs;
  std::string window = "1m";
  std::vector<std::string> services{"user_svc", "job_svc", "image_svc"};
  std::string root_span = "POST /users/{id}/jobs";
  std::string trace_id;
  int width = 0;
  int timeout_secs = 5;
  bool promql = true;
  bool color = true;
};

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "demo_report: " << msg << "\n(see demo_report --help)\n";
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0) {
      if (auto eq = arg.find('='); eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg.resize(eq);
      }
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--prometheus") {
      a.prometheus = value();
      while (!a.prometheus.empty() && a.prometheus.back() == '/') a.prometheus.pop_back();
    } else if (arg == "--otlp-dir") {
      a.otlp_dirs.emplace_back(value());
    } else if (arg == "--window") {
      a.window = value();
      if (!demo_report::valid_window(a.window)) usage_error("--window: '" + a.window + "' is not a PromQL duration (e.g. 30s, 1m, 5m)");
    } else if (arg == "--services") {
      a.services = split_list(value());
      if (a.services.empty()) usage_error("--services: empty list");
      for (const auto& s : a.services)
        if (!demo_report::valid_service_name(s)) usage_error("--services: '" + s + "' is not a service name ([A-Za-z0-9_.:-])");
    } else if (arg == "--root-span") {
      a.root_span = value();
    } else if (arg == "--trace-id") {
      a.trace_id = value();
      for (auto& c : a.trace_id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (a.trace_id.size() != 32 || a.trace_id.find_first_not_of("0123456789abcdef") != std::string::npos)
        usage_error("--trace-id: want 32 hex digits");
    } else if (arg == "--width") {
      auto w = to_int(value());
      if (!w || *w < 40 || *w > 1000) usage_error("--width: want a number from 40 to 1000");
      a.width = *w;
    } else if (arg == "--timeout") {
      auto t = to_int(value());
      if (!t || *t < 1 || *t > 300) usage_error("--timeout: want seconds from 1 to 300");
      a.timeout_secs = *t;
    } else if (arg == "--no-promql") {
      a.promql = false;
    } else if (arg == "--no-color" || arg == "--no-colour") {
      a.color = false;
    } else {
      usage_error("unknown argument '" + std::string(argv[i]) + "'");
    }
  }
  if (a.prometheus.empty() && a.otlp_dirs.empty()) usage_error("give --prometheus URL and/or --otlp-dir DIR");
  return a;
}

int terminal_width() {
  winsize ws{};
  if (::isatty(STDOUT_FILENO) == 1 && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
    return std::min<int>(ws.ws_col, 200);
  if (const char* c = std::getenv("COLUMNS")) {
    if (auto w = to_int(c); w && *w >= 40 && *w <= 1000) return *w;
  }
  return 100;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many = {}) {
  std::string word(n == 1 ? one : many.empty() ? std::string(one) + "s" : many);
  return std::to_string(n) + " " + word;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  const bool color = args.color && std::getenv("NO_COLOR") == nullptr && ::isatty(STDOUT_FILENO) == 1;
  const int width = args.width ? args.width : terminal_width();
  std::vector<std::string> problems;

  // 1. Prometheus summary.
  if (!args.prometheus.empty()) {
    std::string error;
    auto fetch = demo_report::http_fetcher(args.prometheus, &error, std::chrono::seconds(args.timeout_secs));
    if (!fetch) usage_error("--prometheus: " + error);
    demo_report::SummaryOptions options;
    options.services = args.services;
    options.window = args.window;
    const auto summary = demo_report::collect_summary(fetch, options);
    demo_report::SummaryRenderOptions render;
    render.width = width;
    render.color = color;
    render.show_promql = args.promql;
    render.base_url = args.prometheus;
    std::cout << demo_report::render_summary(summary, options, render) << std::flush;
    if (!summary.reachable) {
      problems.push_back("Prometheus at " + args.prometheus + " unreachable (" + summary.unreachable_reason + ")");
    } else if (!summary.failures.empty() && summary.failures.size() == summary.queries.size() && !summary.alerts_ok) {
      problems.push_back("Prometheus at " + args.prometheus + " answered no query (" + summary.failures.front().second + ")");
    }
  } else {
    std::cout << "Prometheus summary skipped (no --prometheus).\n";
  }

  // 2. Trace waterfall and its logs.
  std::cout << "\n";
  if (!args.otlp_dirs.empty()) {
    demo_report::ReadStats trace_stats;
    const auto spans = demo_report::read_spans(args.otlp_dirs, trace_stats);
    std::cout << "Read " << plural(trace_stats.files, "traces file") << " in " << plural(trace_stats.dirs, "directory", "directories")
              << ": " << plural(spans.size(), "span");
    if (trace_stats.malformed_lines) std::cout << ", " << plural(trace_stats.malformed_lines, "malformed line") << " skipped";
    if (trace_stats.skipped_items) std::cout << ", " << plural(trace_stats.skipped_items, "span") << " without valid ids skipped";
    std::cout << "\n";
    for (const auto& p : trace_stats.problems) std::cout << "  note: " << p << "\n";

    demo_report::PickOptions pick;
    pick.services = args.services;
    pick.root_service = args.services.front();
    pick.root_name = args.root_span;
    pick.trace_id = args.trace_id;
    std::string why_not;
    auto trace = demo_report::pick_trace(spans, pick, &why_not);
    if (!trace) {
      std::cout << "No trace to show: " << why_not << "\n";
      problems.push_back("no complete trace: " + why_not);
    } else {
      demo_report::RenderOptions render;
      render.width = width;
      render.color = color;
      std::cout << "\n" << demo_report::render_waterfall(*trace, render) << "\n";
      demo_report::ReadStats log_stats;
      const auto logs = demo_report::read_logs(args.otlp_dirs, trace->trace_id, log_stats);
      std::cout << demo_report::render_logs(*trace, logs, render);
      if (log_stats.malformed_lines)
        std::cout << "  (" << plural(log_stats.malformed_lines, "malformed logs line") << " mentioning this trace skipped)\n";
      for (const auto& p : log_stats.problems) std::cout << "  note: " << p << "\n";
    }
  } else {
    std::cout << "Trace skipped (no --otlp-dir).\n";
  }
  std::cout << std::flush;

  if (!problems.empty()) {
    std::string line;
    for (const auto& p : problems) line += (line.empty() ? "" : "; ") + p;
    std::cerr << "demo_report: " << line << "\n";
    return 1;
  }
  return 0;
}
