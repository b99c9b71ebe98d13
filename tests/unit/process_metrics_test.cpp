#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>

#include "metrics/process_metrics.hpp"

namespace {

double value(const obs::MetricsSnapshot& s, std::string_view name) {
  for (const auto& f : s.families)
    if (f.name == name) return f.series.at(0).value;
  ADD_FAILURE() << "missing " << name;
  return -1;
}

TEST(ProcessMetrics, ReportsThisProcess) {
  obs::MetricsRegistry r;
  obs::internal::add_process_metrics(r);
  const auto before = r.snapshot();
  EXPECT_GT(value(before, "process_resident_memory_bytes"), 1e5);
  EXPECT_GT(value(before, "process_virtual_memory_bytes"), value(before, "process_resident_memory_bytes"));
  EXPECT_GE(value(before, "process_threads"), 1);
  EXPECT_GE(value(before, "process_cpu_seconds"), 0);
  EXPECT_GT(value(before, "process_max_fds"), 0);
  const double start = value(before, "process_start_time_seconds");
  EXPECT_LE(start, static_cast<double>(std::time(nullptr)) + 1);
  EXPECT_GT(start, static_cast<double>(std::time(nullptr)) - 3600);

  const int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(value(r.snapshot(), "process_open_fds"), value(before, "process_open_fds") + 1);
  ::close(fd);

  for (const auto& f : before.families) {
    if (f.name == "process_cpu_seconds") {
      EXPECT_EQ(f.type, obs::MetricType::Counter);
    }
  }
}

}  // namespace
