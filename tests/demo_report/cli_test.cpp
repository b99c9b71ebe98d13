// demo_report as scripts/demo.sh runs it: output and exit status.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace {

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr
};

Run run(const std::string& args) {
  Run r;
  const std::string cmd = std::string("NO_COLOR= COLUMNS=100 ") + DEMO_REPORT_BINARY + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int raw = ::pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

std::string dirs() {
  const std::string f = DEMO_REPORT_FIXTURES;
  return "--otlp-dir " + f + "/user_svc --otlp-dir " + f + "/job_svc --otlp-dir " + f + "/image_svc";
}

}  // namespace

TEST(DemoReportCli, PrintsTheTraceFromFixtures) {
  auto r = run(dirs() + " --no-color");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Trace 4bf92f3577b34da6a3ce929d0e0e4736: 8 spans, 3 services"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 malformed lines skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Logs of this trace (7 records, by time):"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
}

TEST(DemoReportCli, UnreachablePrometheusFailsWithOneLine) {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto r = run("--prometheus http://127.0.0.1:1 " + dirs() + " --timeout 2");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("demo_report: Prometheus at http://127.0.0.1:1 unreachable (cannot connect)\n"), std::string::npos)
      << r.out;
  // The trace still printed.
  EXPECT_NE(r.out.find("Trace 4bf92f3577b34da6a3ce929d0e0e4736"), std::string::npos);
}

TEST(DemoReportCli, NoCompleteTraceFails) {
  const std::string f = DEMO_REPORT_FIXTURES;
  auto r = run("--otlp-dir " + f + "/user_svc --otlp-dir " + f + "/job_svc");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("demo_report: no complete trace: no trace has spans from all of user_svc, job_svc, image_svc"),
            std::string::npos)
      << r.out;
}

TEST(DemoReportCli, UsageErrors) {
  EXPECT_EQ(run("").status, 2);
  EXPECT_EQ(run("--bogus").status, 2);
  EXPECT_EQ(run("--otlp-dir").status, 2);
  EXPECT_EQ(run("--otlp-dir x --window 5").status, 2);
  EXPECT_EQ(run("--otlp-dir x --services 'a|b'").status, 2);
  EXPECT_EQ(run("--prometheus localhost:9090").status, 2);
  auto help = run("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("usage: demo_report --prometheus URL --otlp-dir DIR"), std::string::npos);
}
