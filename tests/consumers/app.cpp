// A minimal program that uses obs the way an application would, built by
// run_consumer_test.sh against the SDK in three ways (add_subdirectory,
// find_package, pkg-config). It checks through the in-memory backends that a
// log record and two counters arrived, and exits non-zero otherwise.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <obs/backends/memory.hpp>
#include <obs/obs.hpp>

namespace {

int failures = 0;

void fail(const std::string& what) {
  std::fprintf(stderr, "consumer: FAIL: %s\n", what.c_str());
  ++failures;
}

std::string show(const std::optional<double>& v) { return v ? std::to_string(*v) : std::string("<absent>"); }

void expect_value(const obs::MemoryMetricsBackend& metrics, std::string_view name,
                  const obs::MemoryMetricsBackend::Labels& labels, double expected) {
  const std::optional<double> got = metrics.value(name, labels);
  if (!got || *got != expected) {
    fail("metric '" + std::string(name) + "' is " + show(got) + ", expected " + std::to_string(expected));
  }
}

}  // namespace

int main() {
  std::printf("consumer: obs %s\n", OBS_VERSION);

  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto metrics = std::make_shared<obs::MemoryMetricsBackend>();
  std::vector<std::string> sdk_errors;

  obs::Sdk sdk = obs::init(obs::Config()
                               .service("consumer")
                               .admin(false)
                               .console(false)
                               .add_log_backend(logs)
                               .add_metrics_backend(metrics)
                               .on_error([&](std::string_view e) { sdk_errors.emplace_back(e); }));
  if (!sdk.ok()) {
    fail("obs::init reported errors");
    for (const auto& e : sdk.errors()) std::fprintf(stderr, "consumer:   init error: %s\n", e.c_str());
  }
  if (sdk.admin_port() != 0) fail("admin server is running although it was disabled");

  obs::log::info("consumer started", {{"answer", 42}, {"mode", "consumer-test"}});

  obs::metric::increment("consumer.requests", 1, {{"route", "/home"}});
  obs::metric::increment("consumer.requests", 2, {{"route", "/home"}});

  const obs::CounterFamily jobs = obs::counter("consumer.jobs", {"kind"});
  if (!jobs.ok()) fail("obs::counter(\"consumer.jobs\") was rejected: " + jobs.error());
  const obs::Counter batch = jobs.labels("batch");
  if (!batch.valid()) fail("consumer.jobs{kind=batch} handle is not valid");
  batch.inc();
  batch.inc(std::uint64_t{4});

  if (!sdk.flush()) fail("sdk.flush() hit its deadline");

  // The log record, with its fields, reached the memory backend.
  const std::vector<obs::LogRecord> records = logs->records();
  if (!logs->contains("consumer started")) {
    fail("log record 'consumer started' did not reach the memory backend (" + std::to_string(records.size()) +
         " records received)");
  } else {
    bool field_ok = false;
    for (const auto& r : records) {
      if (r.message != "consumer started") continue;
      if (r.level != obs::log::Level::Info) fail("log record has the wrong level");
      for (const auto& f : r.fields) {
        if (f.key == "answer" && f.type == obs::FieldType::Int && f.i == 42) field_ok = true;
      }
    }
    if (!field_ok) fail("log record lacks the field answer=42");
  }

  // Metrics are looked up by the names they were registered under.
  expect_value(*metrics, "consumer.requests", {{"route", "/home"}}, 3);
  expect_value(*metrics, "consumer.jobs", {{"kind", "batch"}}, 5);
  if (batch.value() != 5) fail("bound handle reads " + std::to_string(batch.value()) + ", expected 5");

  sdk.shutdown();
  for (const auto& e : sdk_errors) fail("SDK reported an error: " + e);

  if (failures != 0) {
    std::fprintf(stderr, "consumer: %d check(s) failed\n", failures);
    return 1;
  }
  std::printf("consumer: OK (log record and counters arrived)\n");
  return 0;
}
