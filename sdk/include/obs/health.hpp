#pragma once
// Readiness checks served at /health/ready. Each check runs with a timeout
// on its own thread; a check that hangs or throws makes the service not
// ready, it never blocks the endpoint beyond its timeout.
#include <chrono>
#include <functional>
#include <string>

#include "obs/export.hpp"

namespace obs::health {

struct CheckResult {
  CheckResult(bool healthy = true, std::string detail = {}) : ok(healthy), detail(std::move(detail)) {}
  bool ok;
  std::string detail;
};

using Check = std::function<CheckResult()>;

// Registers (or replaces) the check called `name`.
OBS_API void add_readiness_check(std::string name, Check check,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(2));
OBS_API void remove_readiness_check(const std::string& name);

struct Readiness {
  bool ready = true;
  std::string json;  // {"status":"ready"|"not_ready","failing":[...],"checks":{name:{"status":...,...}}}
};
// Runs every check (in parallel, each bounded by its timeout).
OBS_API Readiness check_readiness();

}  // namespace obs::health
