// Readiness checks. Each run happens on a detached thread so that a check
// which hangs costs the endpoint only its timeout; while it is still
// running, later requests wait on that same run instead of starting
// another, so a hung check holds one thread, not one per request.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/diagnostics.hpp"
#include "obs/health.hpp"

namespace obs::health {
namespace {

using Clock = std::chrono::steady_clock;

struct CheckRun {
  std::mutex mutex;
  std::condition_variable done;
  bool running = false;
  std::uint64_t started = 0;
  std::uint64_t finished = 0;
  bool ok = false;
  std::string detail;
  bool threw = false;
  double seconds = 0;
};

struct Entry {
  Check check;
  std::chrono::milliseconds timeout;
  std::shared_ptr<CheckRun> run;
};

struct Checks {
  std::mutex mutex;
  std::map<std::string, Entry> entries;
};

Checks& checks() {
  static auto* c = new Checks();  // never destroyed: check threads may outlive main
  return *c;
}

// What /health/ready says about a check that threw. The exception's own
// text goes to the SDK's error output only: it may hold a connection
// string or a password, and the endpoint may be reachable from afar.
constexpr const char* kThrewDetail = "the check threw an exception (see the service's error output)";

// Starts a run unless one is in flight; returns the run generation to wait for.
std::uint64_t start(const std::string& name, const Check& check, const std::shared_ptr<CheckRun>& run) {
  std::lock_guard lock(run->mutex);
  if (run->running) return run->started;
  run->running = true;
  const std::uint64_t generation = ++run->started;
  try {
    std::thread([name, check, run, generation] {
      const auto t0 = Clock::now();
      bool ok = false, threw = false;
      std::string detail;
      try {
        CheckResult r = check();
        ok = r.ok;
        detail = std::move(r.detail);
      } catch (...) {
        threw = true;
        detail = kThrewDetail;
        internal::report_error("readiness-check:" + name, "readiness check '" + name + "' threw: " +
                                                              internal::describe(std::current_exception()));
      }
      std::lock_guard lock(run->mutex);
      run->running = false;
      run->finished = generation;
      run->ok = ok;
      run->threw = threw;
      run->detail = std::move(detail);
      run->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      run->done.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    run->running = false;
    run->finished = generation;
    run->ok = false;
    run->threw = true;
    run->detail = "could not start the check";
    internal::report_error("readiness-check:" + name, "readiness check '" + name + "' could not start a thread: " + e.what());
  }
  return generation;
}

}  // namespace

void add_readiness_check(std::string name, Check check, std::chrono::milliseconds timeout) {
  auto& c = checks();
  std::lock_guard lock(c.mutex);
  c.entries[std::move(name)] = Entry{std::move(check), timeout, std::make_shared<CheckRun>()};
}

void remove_readiness_check(const std::string& name) {
  auto& c = checks();
  std::lock_guard lock(c.mutex);
  c.entries.erase(name);
}

Readiness check_readiness() {
  std::vector<std::pair<std::string, Entry>> entries;
  {
    auto& c = checks();
    std::lock_guard lock(c.mutex);
    entries.assign(c.entries.begin(), c.entries.end());
  }
  // Start them all first so they run in parallel, then collect.
  std::vector<std::uint64_t> generations;
  const auto t0 = Clock::now();
  for (auto& [name, e] : entries) generations.push_back(start(name, e.check, e.run));

  nlohmann::json out;
  out["checks"] = nlohmann::json::object();
  std::vector<std::string> failing;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto& [name, e] = entries[i];
    auto& run = *e.run;
    std::unique_lock lock(run.mutex);
    const bool finished =
        run.done.wait_until(lock, t0 + e.timeout, [&] { return run.finished >= generations[i]; });
    nlohmann::json check;
    if (!finished) {
      check["status"] = "timeout";
      check["detail"] = "no answer within " + std::to_string(e.timeout.count()) + " ms";
    } else {
      check["status"] = run.threw ? "error" : (run.ok ? "ok" : "failed");
      if (!run.detail.empty()) check["detail"] = run.detail;
      check["duration_seconds"] = run.seconds;
    }
    if (!finished || run.threw || !run.ok) failing.push_back(name);
    out["checks"][name] = std::move(check);
  }
  Readiness r;
  r.ready = failing.empty();
  out["status"] = r.ready ? "ready" : "not_ready";
  if (!r.ready) out["failing"] = failing;
  r.json = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace obs::health
