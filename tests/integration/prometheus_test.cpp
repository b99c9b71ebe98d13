// Integration test with a real Prometheus (Debian's package).
//
// The suite starts example_svc with --jobs N on a free loopback port, and a
// Prometheus on another free loopback port with tests/integration/prometheus.yml
// (its target replaced by the service's address) and its storage in a
// temporary directory. Through Prometheus's HTTP query API it then reads
// back that the target is up, that the counter incremented N times reads N
// and that the histograms observed N times have _count N. Separately,
// `promtool check metrics` must find nothing to say about a scrape of the
// service, which exposes every metric type.
//
// No fixed sleeps: every wait polls with a deadline and fails with what it
// last saw. Children get PR_SET_PDEATHSIG so that they die with the test
// even if it is killed; they are stopped (SIGTERM, then SIGKILL) and the
// temporary directory removed when the suite ends. On a failure the tails of
// the children's logs are printed. OBS_KEEP_TEMP=1 keeps the directory.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kJobs = 250;  // what example_svc is asked to process

// Paths baked in at build time; the environment may override them.
std::string setting(const char* env, const char* built_in) {
  const char* v = std::getenv(env);
  return v && *v ? v : built_in;
}
std::string example_svc_path() { return setting("OBS_EXAMPLE_SVC", OBS_EXAMPLE_SVC_PATH); }
std::string prometheus_path() { return setting("OBS_PROMETHEUS", OBS_PROMETHEUS_PATH); }
std::string promtool_path() { return setting("OBS_PROMTOOL", OBS_PROMTOOL_PATH); }
std::string scrape_config_path() { return setting("OBS_PROMETHEUS_CONFIG", OBS_SOURCE_DIR "/tests/integration/prometheus.yml"); }

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

void require_executable(const std::string& path, const std::string& what, const std::string& hint) {
  if (path.empty() || ::access(path.c_str(), X_OK) != 0)
    fail(what + " not found or not executable" + (path.empty() ? "" : " at '" + path + "'") + "; " + hint);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) fail("cannot write " + path.string());
}

std::string tail(const std::string& text, std::size_t lines) {
  std::size_t pos = text.size();
  while (lines-- > 0 && pos > 0) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos == 0 ? 0 : pos + 1);
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "obs-integration-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) fail("mkdtemp failed: " + std::string(std::strerror(errno)));
    path_ = pattern;
  }
  ~TempDir() {
    if (std::getenv("OBS_KEEP_TEMP")) {
      std::fprintf(stderr, "OBS_KEEP_TEMP: keeping %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A child process with stdout and stderr in a log file. Dies with the test
// process (PR_SET_PDEATHSIG) and is stopped by the destructor at the latest.
class Process {
 public:
  Process(std::string name, std::vector<std::string> args, const std::vector<std::string>& extra_env,
          fs::path log, std::optional<fs::path> stdin_file = std::nullopt)
      : name_(std::move(name)), log_(std::move(log)) {
    // Everything the child needs is prepared before fork(): after it only
    // async-signal-safe calls are made.
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    for (const auto& kv : extra_env) env.push_back(kv);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string log_path = log_.string();
    const std::string in_path = stdin_file ? stdin_file->string() : "/dev/null";
    const pid_t parent = ::getpid();

    pid_ = ::fork();
    if (pid_ < 0) fail("fork failed: " + std::string(std::strerror(errno)));
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the test died before prctl
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      const int in = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
      const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (in < 0 || out < 0) ::_exit(126);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execve(argv[0], argv.data(), envp.data());
      const char msg[] = "execve failed\n";
      [[maybe_unused]] auto n = ::write(2, msg, sizeof(msg) - 1);
      ::_exit(127);
    }
  }
  ~Process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running() {
    if (exited_) return false;
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) exited_ = true;
    return !exited_;
  }

  // Sends `sig`, waits up to `grace` for an exit, then SIGKILLs. Returns a
  // description: "exit 0", "exit 3", "killed by signal 9".
  std::string stop(int sig = SIGTERM, Clock::duration grace = 10s) {
    if (running()) {
      ::kill(pid_, sig);
      const auto deadline = Clock::now() + grace;
      while (running() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
      if (running()) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        exited_ = true;
        return "did not exit within the grace period; killed";
      }
    }
    return exit_description();
  }

  // Waits for the process to end by itself.
  std::optional<std::string> wait_exit(Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (running() && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
    if (running()) return std::nullopt;
    return exit_description();
  }

  std::string exit_description() const {
    if (!exited_) return "running";
    if (WIFEXITED(status_)) return "exit " + std::to_string(WEXITSTATUS(status_));
    if (WIFSIGNALED(status_)) return "killed by signal " + std::to_string(WTERMSIG(status_));
    return "status " + std::to_string(status_);
  }
  std::string log_text() const { return read_file(log_); }
  std::string log_tail(std::size_t lines = 30) const {
    return "---- last lines of " + name_ + "'s output (" + log_.string() + ") ----\n" + tail(log_text(), lines) +
           "---- end of " + name_ + "'s output ----";
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  fs::path log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

// A port the kernel just handed out on 127.0.0.1. Another process could
// take it before we use it; callers that bind it retry on failure.
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket: " + std::string(std::strerror(errno)));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    fail("cannot find a free loopback port: " + err);
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// Polls `probe` every 100 ms until it returns true or `timeout` passes.
// `probe` may set `last` to what it saw, for the failure message.
void wait_until(const std::string& what, Clock::duration timeout, const std::function<bool(std::string& last)>& probe,
                const std::vector<Process*>& must_run = {}) {
  const auto deadline = Clock::now() + timeout;
  std::string last = "(nothing yet)";
  for (;;) {
    if (probe(last)) return;
    for (Process* p : must_run)
      if (!p->running())
        fail("while waiting for " + what + ", " + p->name() + " exited (" + p->exit_description() +
             "); last seen: " + last + "\n" + p->log_tail());
    if (Clock::now() >= deadline) {
      std::string logs;
      for (Process* p : must_run) logs += "\n" + p->log_tail();
      fail("timed out after " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
           " s waiting for " + what + "; last seen: " + last + logs);
    }
    std::this_thread::sleep_for(100ms);
  }
}

httplib::Client client(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2, 0);
  c.set_read_timeout(5, 0);
  c.set_write_timeout(5, 0);
  return c;
}

// GET; returns the status and body, or nullopt when the request failed.
std::optional<std::pair<int, std::string>> http_get(int port, const std::string& path, std::string* error = nullptr) {
  auto c = client(port);
  auto res = c.Get(path.c_str());
  if (!res) {
    if (error) *error = "GET http://127.0.0.1:" + std::to_string(port) + path + ": " + httplib::to_string(res.error());
    return std::nullopt;
  }
  return std::make_pair(res->status, res->body);
}

struct ServiceInstance {
  std::unique_ptr<Process> process;
  int port = 0;
};

// Starts example_svc with PROMETHEUS_PORT=0 and learns its port from --port-file.
ServiceInstance start_example_svc(const fs::path& dir, const std::string& tag, std::vector<std::string> args) {
  const std::string exe = example_svc_path();
  require_executable(exe, "example_svc", "build the target example_svc (OBS_BUILD_DEMO=ON)");
  const fs::path port_file = dir / (tag + ".port");
  std::vector<std::string> argv{exe, "--port-file", port_file.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ServiceInstance s;
  s.process = std::make_unique<Process>(
      tag, argv,
      std::vector<std::string>{"PROMETHEUS_PORT=0", "OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1", "OBS_LOG_FORMAT=json",
                               "LOG_LEVEL=info", "OTEL_SERVICE_NAME=example_svc"},
      dir / (tag + ".log"));
  wait_until(
      tag + " to write its admin port to " + port_file.string(), 20s,
      [&](std::string& last) {
        const std::string text = read_file(port_file);
        last = text.empty() ? "no port file" : "port file '" + text + "'";
        return !text.empty() && (s.port = std::atoi(text.c_str())) > 0;
      },
      {s.process.get()});
  return s;
}

// An instant query; the values of the result vector, as doubles.
std::optional<std::vector<double>> query(int prometheus_port, const std::string& promql, std::string& last) {
  auto c = client(prometheus_port);
  auto res = c.Post("/api/v1/query", httplib::Params{{"query", promql}});
  if (!res) {
    last = "query failed: " + httplib::to_string(res.error());
    return std::nullopt;
  }
  if (res->status != 200) {
    last = "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 300);
    return std::nullopt;
  }
  try {
    const auto j = nlohmann::json::parse(res->body);
    if (j.at("status") != "success" || j.at("data").at("resultType") != "vector") {
      last = res->body.substr(0, 300);
      return std::nullopt;
    }
    std::vector<double> values;
    for (const auto& r : j.at("data").at("result")) values.push_back(std::stod(r.at("value").at(1).get<std::string>()));
    last = values.empty() ? "empty result" : res->body.substr(0, 300);
    return values;
  } catch (const std::exception& e) {
    last = std::string("unparsable answer (") + e.what() + "): " + res->body.substr(0, 300);
    return std::nullopt;
  }
}

// Everything the suite shares: the service (done with its N jobs) and a
// Prometheus scraping it.
struct Stack {
  TempDir dir;
  ServiceInstance svc;
  std::unique_ptr<Process> prometheus;
  int prometheus_port = 0;
  std::string scrape_config;  // as written for Prometheus

  Stack() {
    require_executable(prometheus_path(), "prometheus", "install Debian's package prometheus (scripts/install-deps.sh)");
    svc = start_example_svc(dir.path(), "example_svc", {"--jobs", std::to_string(kJobs), "--rate", "0"});

    // The service's default address stands for it in the stack's config.
    scrape_config = read_file(scrape_config_path());
    const std::string placeholder = "127.0.0.1:9568";
    const std::string target = "127.0.0.1:" + std::to_string(svc.port);
    std::size_t replaced = 0;
    for (auto at = scrape_config.find(placeholder); at != std::string::npos;
         at = scrape_config.find(placeholder, at + target.size()), ++replaced)
      scrape_config.replace(at, placeholder.size(), target);
    if (replaced == 0)
      fail("scrape config " + scrape_config_path() + " is missing or has no target '" + placeholder + "' to replace");
    write_file(dir.path() / "prometheus.yml", scrape_config);

    // The port may be taken between free_loopback_port() and Prometheus's
    // bind: try a few times.
    for (int attempt = 1;; ++attempt) {
      prometheus_port = free_loopback_port();
      const fs::path data = dir.path() / ("prometheus-data-" + std::to_string(attempt));
      prometheus = std::make_unique<Process>(
          "prometheus",
          std::vector<std::string>{prometheus_path(), "--config.file=" + (dir.path() / "prometheus.yml").string(),
                                   "--storage.tsdb.path=" + data.string(),
                                   "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port),
                                   // Scrapes negotiate OpenMetrics and keep exemplars.
                                   "--enable-feature=exemplar-storage", "--log.level=info"},
          std::vector<std::string>{}, dir.path() / ("prometheus-" + std::to_string(attempt) + ".log"));
      try {
        wait_until(
            "Prometheus to be ready on 127.0.0.1:" + std::to_string(prometheus_port), 60s,
            [&](std::string& last) {
              auto r = http_get(prometheus_port, "/-/ready", &last);
              if (r) last = "HTTP " + std::to_string(r->first) + " " + r->second;
              return r && r->first == 200;
            },
            {prometheus.get()});
        break;
      } catch (const std::exception&) {
        const bool port_taken = prometheus->log_text().find("address already in use") != std::string::npos;
        if (!port_taken || attempt == 3) throw;
      }
    }
  }

  ~Stack() {
    if (prometheus) prometheus->stop();
    if (svc.process) svc.process->stop();
  }

  std::string logs() const {
    return "\n" + svc.process->log_tail() + "\n" + prometheus->log_tail() + "\nscrape config:\n" + scrape_config;
  }
};

class PrometheusIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      stack_ = std::make_unique<Stack>();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { stack_.reset(); }

  void SetUp() override { ASSERT_TRUE(stack_) << "the test stack did not start: " << setup_error_; }
  void TearDown() override {
    if (HasFailure() && stack_) std::fprintf(stderr, "%s\n", stack_->logs().c_str());
  }

  // Waits until the instant query `promql` yields exactly one sample equal to `expected`.
  static void expect_query_value(const std::string& promql, double expected) {
    wait_until(
        "'" + promql + "' to read " + std::to_string(expected), 60s,
        [&](std::string& last) {
          auto v = query(stack_->prometheus_port, promql, last);
          return v && v->size() == 1 && std::fabs((*v)[0] - expected) < 1e-9;
        },
        {stack_->svc.process.get(), stack_->prometheus.get()});
  }

  static std::unique_ptr<Stack> stack_;
  static std::string setup_error_;
};

std::unique_ptr<Stack> PrometheusIntegration::stack_;
std::string PrometheusIntegration::setup_error_;

TEST_F(PrometheusIntegration, ScrapeConfigIsValid) {
  const std::string promtool = promtool_path();
  require_executable(promtool, "promtool", "install Debian's package prometheus (scripts/install-deps.sh)");
  const fs::path config = stack_->dir.path() / "prometheus.yml";
  Process check("promtool check config", {promtool, "check", "config", config.string()}, {},
                stack_->dir.path() / "promtool-config.log");
  const auto status = check.wait_exit(60s);
  ASSERT_TRUE(status) << "promtool check config did not finish within 60 s";
  EXPECT_EQ(*status, "exit 0") << check.log_tail();
}

TEST_F(PrometheusIntegration, TargetIsUp) {
  wait_until(
      "Prometheus's /api/v1/targets to show the example_svc target healthy", 60s,
      [&](std::string& last) {
        auto r = http_get(stack_->prometheus_port, "/api/v1/targets?state=active", &last);
        if (!r) return false;
        last = r->second.substr(0, 600);
        try {
          const auto answer = nlohmann::json::parse(r->second);
          for (const auto& t : answer.at("data").at("activeTargets"))
            if (t.at("labels").at("job") == "example_svc" &&
                t.at("scrapeUrl") == "http://127.0.0.1:" + std::to_string(stack_->svc.port) + "/metrics")
              return t.at("health") == "up";
        } catch (const std::exception&) {
        }
        return false;
      },
      {stack_->svc.process.get(), stack_->prometheus.get()});
  expect_query_value("up{job=\"example_svc\"}", 1);
}

TEST_F(PrometheusIntegration, CounterIncrementedNTimesReadsN) {
  // Bound counter, split by status: the statuses add up to the jobs processed.
  expect_query_value("sum(example_jobs_processed_total{job=\"example_svc\"})", kJobs);
  // One series per status: ok, retried, failed.
  expect_query_value("count(example_jobs_processed_total{job=\"example_svc\"})", 3);
}

TEST_F(PrometheusIntegration, HistogramObservedNTimesHasCountN) {
  // Bound histogram, by kind.
  expect_query_value("sum(example_job_duration_seconds_count{job=\"example_svc\"})", kJobs);
  // Its +Inf bucket holds every observation too.
  expect_query_value("sum(example_job_duration_seconds_bucket{job=\"example_svc\",le=\"+Inf\"})", kJobs);
  // Facade histogram, one observation per job.
  expect_query_value("example_queue_wait_seconds_count{job=\"example_svc\"}", kJobs);
  // A gauge: --jobs leaves the queue empty.
  expect_query_value("example_queue_depth{job=\"example_svc\"}", 0);
}

// The resource arrives as target_info (OpenTelemetry's Prometheus
// compatibility spec), ingested by the real Prometheus with its labels.
TEST_F(PrometheusIntegration, ResourceIsTargetInfo) {
  expect_query_value("count(target_info{job=\"example_svc\",service_name=\"example_svc\",telemetry_sdk_name=\"obs\"})",
                     1);
}

TEST_F(PrometheusIntegration, PromtoolFindsNoProblemsInTheScrape) {
  const std::string promtool = promtool_path();
  require_executable(promtool, "promtool", "install Debian's package prometheus (scripts/install-deps.sh)");
  std::string error;
  auto r = http_get(stack_->svc.port, "/metrics", &error);
  ASSERT_TRUE(r) << error;
  ASSERT_EQ(r->first, 200) << r->second;
  const std::string& scrape = r->second;
  // Every metric type is in it, or the lint would prove less than it claims.
  for (const char* type : {"counter", "gauge", "histogram"})
    EXPECT_NE(scrape.find(std::string(" ") + type + "\n"), std::string::npos) << "no " << type << " in:\n" << scrape;

  const fs::path file = stack_->dir.path() / "scrape.txt";
  write_file(file, scrape);
  Process check("promtool check metrics", {promtool, "check", "metrics"}, {},
                stack_->dir.path() / "promtool-metrics.log", file);
  const auto status = check.wait_exit(60s);
  ASSERT_TRUE(status) << "promtool check metrics did not finish within 60 s";
  const std::string output = check.log_text();
  EXPECT_EQ(*status, "exit 0") << "promtool check metrics:\n" << output;
  EXPECT_EQ(output, "") << "promtool check metrics found problems:\n" << output << "\nin the scrape:\n" << scrape;
}

// Each job's duration is observed inside its sampled span, so the buckets
// carry exemplars; Prometheus asks for OpenMetrics, stores them, and answers
// them with the span's trace id.
TEST_F(PrometheusIntegration, HistogramExemplarsCarryTraceIds) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string path = "/api/v1/query_exemplars?query=example_job_duration_seconds_bucket&start=" +
                           std::to_string(now - 3600) + "&end=" + std::to_string(now + 3600);
  wait_until(
      "Prometheus's /api/v1/query_exemplars to return example_job_duration_seconds exemplars with trace ids", 60s,
      [&](std::string& last) {
        auto r = http_get(stack_->prometheus_port, path, &last);
        if (!r) return false;
        last = "HTTP " + std::to_string(r->first) + " " + r->second.substr(0, 600);
        try {
          const auto answer = nlohmann::json::parse(r->second);
          for (const auto& series : answer.at("data")) {
            if (series.at("seriesLabels").value("job", "") != "example_svc") continue;
            for (const auto& e : series.at("exemplars")) {
              const std::string trace_id = e.at("labels").value("trace_id", "");
              const std::string span_id = e.at("labels").value("span_id", "");
              const bool hex32 = trace_id.size() == 32 &&
                                 trace_id.find_first_not_of("0123456789abcdef") == std::string::npos &&
                                 trace_id != std::string(32, '0');
              if (hex32 && span_id.size() == 16) return true;
            }
          }
        } catch (const std::exception&) {
        }
        return false;
      },
      {stack_->svc.process.get(), stack_->prometheus.get()});
}

// What Prometheus gets when it asks for OpenMetrics: the exemplars, # EOF.
TEST_F(PrometheusIntegration, OpenMetricsScrapeHasExemplarsAndEof) {
  auto c = client(stack_->svc.port);
  auto res = c.Get("/metrics", {{"Accept", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"}});
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
  const std::string& body = res->body;
  ASSERT_GE(body.size(), 6u);
  EXPECT_EQ(body.substr(body.size() - 6), "# EOF\n") << body;
  EXPECT_NE(body.find("# TYPE example_job_duration_seconds histogram\n"
                      "# UNIT example_job_duration_seconds seconds\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("# TYPE target info\n"), std::string::npos) << body;
  EXPECT_NE(body.find(" # {trace_id=\""), std::string::npos) << body;
}

TEST_F(PrometheusIntegration, HealthEndpointsAnswer) {
  std::string error;
  auto health = http_get(stack_->svc.port, "/health", &error);
  ASSERT_TRUE(health) << error;
  EXPECT_EQ(health->first, 200) << health->second;
  EXPECT_EQ(nlohmann::json::parse(health->second).value("service", ""), "example_svc") << health->second;
  auto ready = http_get(stack_->svc.port, "/health/ready", &error);
  ASSERT_TRUE(ready) << error;
  EXPECT_EQ(ready->first, 200) << ready->second;
  EXPECT_EQ(nlohmann::json::parse(ready->second).value("status", ""), "ready") << ready->second;
}

// The service's own contract: a stop signal ends it promptly with status 0.
TEST(ExampleService, StopsWithStatusZeroOnSigtermAndSigint) {
  TempDir dir;
  for (int sig : {SIGTERM, SIGINT}) {
    const std::string tag = std::string("example_svc-") + (sig == SIGTERM ? "sigterm" : "sigint");
    auto s = start_example_svc(dir.path(), tag, {"--rate", "50"});
    const std::string result = s.process->stop(sig, 10s);
    EXPECT_EQ(result, "exit 0") << s.process->log_tail();
    EXPECT_NE(s.process->log_text().find("example_svc stopping"), std::string::npos) << s.process->log_tail();
  }
}

TEST(ExampleService, DurationEndsItWithStatusZero) {
  TempDir dir;
  auto s = start_example_svc(dir.path(), "example_svc-duration", {"--duration", "1", "--jobs", "10", "--rate", "0"});
  const auto status = s.process->wait_exit(20s);
  ASSERT_TRUE(status) << "still running 20 s after --duration 1\n" << s.process->log_tail();
  EXPECT_EQ(*status, "exit 0") << s.process->log_tail();
}

// A second instance on a port already served must say the port is in use
// (cpp-httplib's default SO_REUSEPORT would let it share the port silently).
TEST(ExampleService, SecondInstanceOnTheSamePortSaysSo) {
  TempDir dir;
  auto first = start_example_svc(dir.path(), "example_svc-first", {"--rate", "5"});
  Process second("example_svc-second", {example_svc_path(), "--duration", "1"},
                 {"PROMETHEUS_PORT=" + std::to_string(first.port), "OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1"},
                 dir.path() / "second.log");
  const auto status = second.wait_exit(20s);
  ASSERT_TRUE(status) << second.log_tail();
  EXPECT_EQ(*status, "exit 0") << second.log_tail();  // it keeps running with what works
  EXPECT_NE(second.log_text().find("admin server is not running"), std::string::npos) << second.log_tail();
  first.process->stop();
}

}  // namespace
