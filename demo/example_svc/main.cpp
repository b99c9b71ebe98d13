// example_svc: the obs demo service.
//
// A worker that takes simulated jobs ("resize", "thumbnail", "transcode") off
// a simulated queue and processes them at --rate jobs per second, using every
// part of the SDK:
//
//   metrics   example_jobs_processed_total{status}   bound counter; status = ok | retried | failed
//             example_job_duration_seconds{kind}     bound histogram (simulated processing time)
//             example_queue_depth                    bound gauge
//             example_bytes_processed_total{kind}    facade counter    (obs::metric::increment)
//             example_queue_wait_seconds             facade histogram  (obs::metric::histogram)
//             example_worker_utilization_ratio       facade gauge      (obs::metric::gauge)
//             plus the SDK's process_* and obs_metric_* metrics
//   logs      info: start, progress every 100 jobs, stop; debug: every job;
//             warning: retried jobs, queue backing up; error: failed jobs;
//             all with structured fields (job_id, kind, status, duration_seconds, ...)
//   health    readiness check "worker": the work loop has been alive within the last 5 s
//
// The admin server serves /metrics, /health and /health/ready on
// OTEL_EXPORTER_PROMETHEUS_HOST:PROMETHEUS_PORT (127.0.0.1:9568 unless set;
// this demo binds loopback by default, unlike the SDK's 0.0.0.0).
//
// Test control: --jobs N processes exactly N jobs (so a test knows the exact
// counts: example_jobs_processed_total summed over status is N, and so is
// example_job_duration_seconds_count summed over kind), then keeps serving
// until signalled. --port-file PATH writes the admin port once it listens
// (useful with PROMETHEUS_PORT=0).
//
// SIGINT/SIGTERM (or the end of --duration) stop the work loop; the SDK is
// then shut down with a deadline and the process exits 0. Signals are
// blocked in every thread and taken synchronously with sigtimedwait() by the
// main thread, which also paces the work: no code runs in a signal handler.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "obs/obs.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kProg = "example_svc";

void usage(std::FILE* out) {
  std::fprintf(out,
               "Usage: %s [options]\n"
               "\n"
               "The obs demo service: processes simulated jobs and exports logs, metrics and\n"
               "health through the obs SDK. Stops on SIGINT/SIGTERM (exit status 0).\n"
               "\n"
               "Options:\n"
               "  --rate N            jobs per second (default 20; 0 = as fast as possible)\n"
               "  --jobs N            process exactly N jobs, then keep serving /metrics until\n"
               "                      signalled (default 0 = no limit)\n"
               "  --duration SECONDS  exit on its own after SECONDS (default 0 = run until signalled)\n"
               "  --error-rate F      fraction of jobs that fail, 0..1 (default 0.04; as many again\n"
               "                      succeed after a retry)\n"
               "  --seed N            random seed, for repeatable runs (default 42)\n"
               "  --port-file PATH    write the admin server's port to PATH once it listens\n"
               "  -h, --help          show this help\n"
               "  --version           print the version\n"
               "\n"
               "Environment (read by obs::Config::from_env):\n"
               "  OTEL_SERVICE_NAME, DD_SERVICE     service name (default example_svc)\n"
               "  OBS_ENVIRONMENT, DD_ENV           environment (default development)\n"
               "  OBS_SERVICE_VERSION, DD_VERSION   version (default the SDK's, %s)\n"
               "  LOG_LEVEL                         trace|debug|info|warning|error|critical|off (default info)\n"
               "  OBS_LOG_FORMAT                    text|json (default text); logs go to stdout\n"
               "  PROMETHEUS_PORT                   admin server port: /metrics, /health, /health/ready\n"
               "  (or OTEL_EXPORTER_PROMETHEUS_PORT) (default 9568; 0 picks a free port)\n"
               "  OTEL_EXPORTER_PROMETHEUS_HOST     admin server bind address (default 127.0.0.1 here)\n"
               "  OBS_ADMIN_SERVER                  false: no admin server\n"
               "  OBS_PROCESS_METRICS               false: no process_* metrics\n"
               "  OTEL_LOGS_EXPORTER                console|none\n"
               "  OTEL_METRICS_EXPORTER             prometheus|none\n"
               "  OTEL_TRACES_EXPORTER              console|none (default none): print each job's span\n"
               "  OTEL_TRACES_SAMPLER(_ARG)         which jobs are traced (default parentbased_always_on)\n"
               "  OTEL_SDK_DISABLED                 true: start no telemetry at all\n"
               "  OBS_LOG_QUEUE_SIZE, OBS_METRIC_SERIES_LIMIT   pipeline limits\n",
               kProg, OBS_VERSION);
}

struct Options {
  double rate = 20;
  std::uint64_t jobs = 0;
  double duration = 0;
  double error_rate = 0.04;
  std::uint64_t seed = 42;
  std::string port_file;
};

template <class T>
bool parse_number(std::string_view text, T& out) {
  T v{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  out = v;
  return true;
}

// Returns the exit status to use, or nothing to go on running.
std::optional<int> parse_args(int argc, char** argv, Options& o) {
  auto bad = [](const std::string& message) {
    std::fprintf(stderr, "%s: %s\nTry '%s --help'.\n", kProg, message.c_str(), kProg);
    return std::optional<int>(2);
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("%s (obs %s)\n", kProg, OBS_VERSION);
      return 0;
    }
    std::string_view name = arg, value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const bool known = name == "--rate" || name == "--jobs" || name == "--duration" || name == "--error-rate" ||
                       name == "--seed" || name == "--port-file";
    if (!known) return bad("unknown option '" + std::string(arg) + "'");
    if (!has_value) {
      if (i + 1 >= argc) return bad("option '" + std::string(name) + "' needs a value");
      value = argv[++i];
    }
    bool ok = true;
    if (name == "--rate") ok = parse_number(value, o.rate) && std::isfinite(o.rate) && o.rate >= 0;
    else if (name == "--jobs") ok = parse_number(value, o.jobs);
    else if (name == "--duration") ok = parse_number(value, o.duration) && std::isfinite(o.duration) && o.duration >= 0;
    else if (name == "--error-rate") ok = parse_number(value, o.error_rate) && o.error_rate >= 0 && o.error_rate <= 1;
    else if (name == "--seed") ok = parse_number(value, o.seed);
    else if (name == "--port-file") ok = !(o.port_file = value).empty();
    if (!ok) return bad("invalid value '" + std::string(value) + "' for " + std::string(name));
  }
  return std::nullopt;
}

// Written to stderr by the SDK's error handler; while init() runs its
// problems are printed from Sdk::errors() instead, so each shows once.
void on_sdk_error(std::string_view message) {
  std::fprintf(stderr, "%s: obs error: %.*s\n", kProg, static_cast<int>(message.size()), message.data());
}

// Steady-clock time of the work loop's last iteration, for the readiness check.
std::atomic<std::int64_t> g_heartbeat_ns{0};
std::atomic<bool> g_all_done{false};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

bool write_port_file(const std::string& path, unsigned port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;  // readers never see a partial file
}

// Waits up to `timeout` for SIGINT/SIGTERM (blocked in every thread).
// Returns the signal taken, or 0 when the time passed.
int wait_for_signal(const sigset_t& signals, Clock::duration timeout) {
  if (timeout < Clock::duration::zero()) timeout = Clock::duration::zero();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  for (;;) {
    const int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno == EAGAIN) return 0;
    if (errno != EINTR) return 0;  // EINVAL cannot happen with a valid timespec; treat as a timeout
  }
}

struct Kind {
  std::string_view name;
  double weight;          // share of the job mix
  double median_seconds;  // of the simulated processing time
  double median_bytes;    // of the payload
};
constexpr Kind kKinds[] = {
    {"thumbnail", 0.5, 0.008, 40e3},
    {"resize", 0.35, 0.030, 400e3},
    {"transcode", 0.15, 0.180, 8e6},
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (auto status = parse_args(argc, argv, opt)) return *status;

  // Block the stop signals before the SDK starts any thread, so every
  // thread inherits the mask and only sigtimedwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (int err = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); err != 0) {
    std::fprintf(stderr, "%s: cannot block SIGINT/SIGTERM: %s\n", kProg, std::strerror(err));
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a scraper hanging up must not kill the service

  obs::Config config = obs::Config::from_env().default_service("example_svc");
  if (config.version.empty()) config.service_version(OBS_VERSION);
  // Loopback unless the environment says otherwise: a demo should not
  // listen on every interface by default.
  if (const char* host = std::getenv("OTEL_EXPORTER_PROMETHEUS_HOST"); !host || !*host)
    config.admin_bind_address = "127.0.0.1";
  config.on_error(on_sdk_error);

  const bool want_admin = config.admin_server && !config.disabled;
  const std::string bind_address = config.admin_bind_address;
  const unsigned wanted_port = config.admin_port;
  const bool disabled = config.disabled;

  // init reports each problem once through on_sdk_error; sdk.ok() says
  // whether there were any. The service keeps running with what works.
  obs::Sdk sdk = obs::init(std::move(config));
  const unsigned port = sdk.admin_port();
  if (want_admin && port == 0) {
    std::fprintf(stderr,
                 "%s: WARNING: the admin server is not running (port %u on %s in use?): /metrics, /health and "
                 "/health/ready are NOT served. Set PROMETHEUS_PORT to a free port, or 0 for any.\n",
                 kProg, wanted_port, bind_address.c_str());
    obs::log::warning("Admin server not running; metrics are not exported",
                      {{"bind_address", bind_address}, {"port", wanted_port}});
  } else if (port != 0) {
    std::fprintf(stderr, "%s: serving http://%s:%u/metrics, /health and /health/ready\n", kProg,
                 bind_address.c_str(), port);
  } else if (disabled) {
    std::fprintf(stderr, "%s: OTEL_SDK_DISABLED is set: no logs, metrics or admin server\n", kProg);
  }

  // Instruments: bound handles for the hot path, registered once.
  const auto jobs_family = obs::counter("example.jobs.processed", {"status"},
                                        {.description = "Jobs taken off the queue and finished, by outcome.", .unit = "{job}"});
  const auto duration_family =
      obs::histogram("example.job.duration", {"kind"},
                     {.description = "Time spent processing one job.",
                      .unit = "s",
                      .buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}});
  const auto queue_family = obs::gauge("example.queue.depth", {}, {.description = "Jobs waiting in the queue.", .unit = "{job}"});
  for (const std::string* err : {&jobs_family.error(), &duration_family.error(), &queue_family.error()})
    if (!err->empty()) std::fprintf(stderr, "%s: metric registration failed: %s\n", kProg, err->c_str());

  const obs::Counter jobs_ok = jobs_family.labels("ok");
  const obs::Counter jobs_retried = jobs_family.labels("retried");
  const obs::Counter jobs_failed = jobs_family.labels("failed");
  obs::Histogram duration_by_kind[std::size(kKinds)];
  for (std::size_t k = 0; k < std::size(kKinds); ++k) duration_by_kind[k] = duration_family.labels(kKinds[k].name);
  const obs::Gauge queue_depth = queue_family.labels();

  g_heartbeat_ns = now_ns();
  obs::health::add_readiness_check("worker", [] {
    const double idle = static_cast<double>(now_ns() - g_heartbeat_ns.load()) / 1e9;
    if (idle > 5) return obs::health::CheckResult(false, "work loop stalled for " + std::to_string(idle) + " s");
    return obs::health::CheckResult(true, g_all_done ? "all requested jobs processed; idle" : "processing jobs");
  });

  // Written last, so whoever waits for it finds every metric registered.
  if (port != 0 && !opt.port_file.empty() && !write_port_file(opt.port_file, port))
    std::fprintf(stderr, "%s: cannot write the port file %s: %s\n", kProg, opt.port_file.c_str(),
                 std::strerror(errno));

  obs::log::info("example_svc started", {{"rate", opt.rate},
                                         {"jobs", opt.jobs},
                                         {"duration_seconds", opt.duration},
                                         {"admin_port", port},
                                         {"seed", opt.seed}});

  std::mt19937_64 rng(opt.seed);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::normal_distribution<double> normal(0, 1);
  auto pick_kind = [&]() -> std::size_t {
    double r = uniform(rng);
    for (std::size_t k = 0; k < std::size(kKinds); ++k) {
      if (r < kKinds[k].weight) return k;
      r -= kKinds[k].weight;
    }
    return std::size(kKinds) - 1;
  };

  const auto started = Clock::now();
  const std::optional<Clock::time_point> end =
      opt.duration > 0 ? std::optional(started + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(opt.duration)))
                       : std::nullopt;
  const auto period = opt.rate > 0 ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / opt.rate))
                                   : Clock::duration::zero();
  auto next_job = started;
  std::uint64_t processed = 0, failed = 0;
  double backlog = 5;  // simulated queue, when --jobs does not define it
  bool backing_up = false;
  auto window_start = started;
  double window_busy = 0;
  std::string stop_reason;

  for (;;) {
    auto now = Clock::now();
    g_heartbeat_ns = now_ns();
    if (end && now >= *end) {
      stop_reason = "duration elapsed";
      break;
    }
    if (opt.jobs && processed >= opt.jobs) {
      if (!g_all_done.exchange(true)) {
        queue_depth.set(0);
        obs::metric::gauge("example.worker.utilization.ratio", 0);
        obs::log::info("All requested jobs processed; idle until signalled",
                       {{"jobs", processed}, {"failed", failed}});
      }
      const Clock::duration timeout = end ? std::min<Clock::duration>(*end - now, 1s) : Clock::duration(1s);
      if (int sig = wait_for_signal(stop_signals, timeout)) {
        stop_reason = sig == SIGINT ? "SIGINT" : "SIGTERM";
        break;
      }
      continue;
    }
    // Pace the work; stop signals end the wait at once.
    const auto due = end ? std::min(next_job, *end) : next_job;
    if (int sig = wait_for_signal(stop_signals, std::min<Clock::duration>(due - now, 1s))) {
      stop_reason = sig == SIGINT ? "SIGINT" : "SIGTERM";
      break;
    }
    now = Clock::now();
    if (now < next_job) continue;
    next_job = now - next_job > 1s ? now + period : next_job + period;  // no burst after a stall

    // One job.
    const std::uint64_t id = ++processed;
    const Kind& kind = kKinds[pick_kind()];
    const std::size_t kind_index = static_cast<std::size_t>(&kind - kKinds);
    const double seconds = kind.median_seconds * std::exp(0.6 * normal(rng));
    const double bytes = std::round(kind.median_bytes * std::exp(0.8 * normal(rng)));
    const double waited = std::max(0.0, 0.002 * backlog * std::exp(0.5 * normal(rng)));
    const double r = uniform(rng);

    // Each job is a span: its log lines below carry its trace_id and span_id
    // (and OTEL_TRACES_EXPORTER=console prints the span itself), and the
    // duration observed inside it becomes its bucket's exemplar.
    obs::Span job_span("process_job", {{"job.id", id}, {"job.kind", kind.name}});
    duration_by_kind[kind_index].observe(seconds);
    obs::metric::histogram("example.queue.wait.seconds", waited);
    window_busy += seconds;
    if (r < opt.error_rate) {
      job_span.set_status(obs::SpanStatus::Error, "job failed");
      ++failed;
      jobs_failed.inc();
      const char* why = uniform(rng) < 0.5 ? "corrupt input" : "storage timeout";
      obs::log::error("Job failed", {{"job_id", id},
                                     {"kind", kind.name},
                                     {"status", "failed"},
                                     {"error", why},
                                     {"duration_seconds", seconds}});
    } else if (r < 2 * opt.error_rate) {
      jobs_retried.inc();
      obs::metric::increment("example.bytes.processed", bytes, {{"kind", kind.name}});
      obs::log::warning("Job succeeded after a retry", {{"job_id", id},
                                                         {"kind", kind.name},
                                                         {"status", "retried"},
                                                         {"attempts", 2},
                                                         {"duration_seconds", seconds}});
    } else {
      jobs_ok.inc();
      obs::metric::increment("example.bytes.processed", bytes, {{"kind", kind.name}});
      obs::log::debug("Job processed", {{"job_id", id},
                                        {"kind", kind.name},
                                        {"status", "ok"},
                                        {"bytes", bytes},
                                        {"duration_seconds", seconds}});
    }

    // The queue: what --jobs has left, or a random walk with bursts.
    if (opt.jobs) {
      queue_depth.set(static_cast<double>(opt.jobs - processed));
    } else {
      backlog = std::clamp(backlog + normal(rng) * 1.5 + (uniform(rng) < 0.01 ? 30 : 0) - 0.05 * backlog, 0.0, 100.0);
      queue_depth.set(std::round(backlog));
      if (!backing_up && backlog > 40) {
        backing_up = true;
        obs::log::warning("Queue backing up", {{"queue_depth", std::round(backlog)}});
      } else if (backing_up && backlog < 20) {
        backing_up = false;
        obs::log::info("Queue drained", {{"queue_depth", std::round(backlog)}});
      }
    }

    if (now - window_start >= 1s) {
      const double elapsed = std::chrono::duration<double>(now - window_start).count();
      obs::metric::gauge("example.worker.utilization.ratio", std::min(1.0, window_busy / elapsed));
      window_start = now;
      window_busy = 0;
    }
    if (id % 100 == 0)
      obs::log::info("Progress", {{"jobs", id}, {"failed", failed}, {"queue_depth", queue_depth.value()}});
  }

  obs::log::info("example_svc stopping", {{"reason", stop_reason}, {"jobs", processed}, {"failed", failed}});
  obs::health::remove_readiness_check("worker");
  sdk.shutdown(5s);
  std::fprintf(stderr, "%s: stopped (%s) after %llu jobs\n", kProg, stop_reason.c_str(),
               static_cast<unsigned long long>(processed));
  return 0;
}
