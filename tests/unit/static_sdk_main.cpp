// An application that keeps its Sdk in a global and never shuts it down:
// the Sdk's static destructor does it at exit, delivering what is
// buffered. Objects destroyed after it keep logging, counting and tracing
// (dropped and counted, not a crash), and shutting down again is a no-op.
// Exits 0 when all of that holds (checked by ctest: obs_static_sdk).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "obs/obs.hpp"

namespace {

constexpr int kRecords = 1000;

// Trivially destructible, so still readable by the last destructor.
std::atomic<int> g_delivered{0};

class CountingBackend : public obs::LogBackend {
 public:
  std::string_view name() const override { return "counting"; }
  void write(const obs::LogBatch& batch) override { g_delivered += static_cast<int>(batch.records.size()); }
};

// Constructed before g_sdk, so destroyed after it.
struct UsesObsAfterTheSdk {
  ~UsesObsAfterTheSdk() {
    obs::log::info("after the Sdk's destructor");
    obs::metric::increment("static_sdk_after_exit");
    { obs::Span span("after the Sdk's destructor"); }
    if (g_delivered.load() != kRecords) {
      std::fprintf(stderr, "static_sdk: %d of %d records delivered at exit\n", g_delivered.load(), kRecords);
      ::_exit(1);
    }
    std::fprintf(stderr, "static_sdk: all %d records delivered at exit\n", kRecords);
  }
} g_uses_obs_after;

obs::Sdk g_sdk;

}  // namespace

int main() {
  auto config = obs::Config().service("static_sdk").console(false).with_prometheus(false).admin(false);
  config.add_log_backend(std::make_shared<CountingBackend>());
  g_sdk = obs::init(config);
  if (!g_sdk.ok()) return 2;
  for (int i = 0; i < kRecords; ++i) obs::log::info("buffered at exit");
  return 0;  // no shutdown: g_sdk's destructor does it
}
