#include "metrics/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace obs::internal {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_time_seconds = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double threads = 0;
  bool ok = false;
};

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

ProcStat read_stat() {
  ProcStat s;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return s;
  // The command name (field 2) may contain spaces: parse after its closing paren.
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) return s;
  std::istringstream rest(line.substr(paren + 2));
  std::string f[50];
  int n = 0;
  while (n < 50 && rest >> f[n]) ++n;
  // rest starts at field 3 (state): field k is f[k - 3].
  if (n < 22) return s;
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  static const double boot = boot_time_seconds();
  s.cpu_seconds = (std::stod(f[14 - 3]) + std::stod(f[15 - 3])) / ticks;
  s.threads = std::stod(f[20 - 3]);
  s.start_time_seconds = boot + std::stod(f[22 - 3]) / ticks;
  s.virtual_bytes = std::stod(f[23 - 3]);
  s.resident_bytes = std::stod(f[24 - 3]) * page;
  s.ok = true;
  return s;
}

double open_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  double n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  // the descriptor opendir itself holds
}

void add(std::vector<MetricFamilySnapshot>& out, const char* name, const char* unit, const char* description,
         MetricType type, double value) {
  MetricFamilySnapshot f;
  f.name = name;
  f.unit = unit;
  f.description = description;
  f.type = type;
  SeriesSnapshot s;
  s.value = value;
  f.series.push_back(std::move(s));
  out.push_back(std::move(f));
}

}  // namespace

void add_process_metrics(MetricsRegistry& registry) {
  registry.add_collector(
      [](std::vector<MetricFamilySnapshot>& out) {
    const ProcStat s = read_stat();
    if (s.ok) {
      add(out, "process_cpu_seconds", "s", "Total user and system CPU time spent in seconds.", MetricType::Counter,
          s.cpu_seconds);
      add(out, "process_resident_memory_bytes", "By", "Resident memory size in bytes.", MetricType::Gauge, s.resident_bytes);
      add(out, "process_virtual_memory_bytes", "By", "Virtual memory size in bytes.", MetricType::Gauge, s.virtual_bytes);
      add(out, "process_start_time_seconds", "s", "Start time of the process since unix epoch in seconds.",
          MetricType::Gauge, s.start_time_seconds);
      add(out, "process_threads", "{thread}", "Number of OS threads in the process.", MetricType::Gauge, s.threads);
    }
    add(out, "process_open_fds", "{file_descriptor}", "Number of open file descriptors.", MetricType::Gauge, open_fds());
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0)
      add(out, "process_max_fds", "{file_descriptor}", "Maximum number of open file descriptors.", MetricType::Gauge,
          lim.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(lim.rlim_cur));
      },
      {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
       "process_start_time_seconds", "process_threads", "process_open_fds", "process_max_fds"});
}

}  // namespace obs::internal
