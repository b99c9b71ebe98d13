// loadgen's pure parts: argument parsing, the mix picker, request building,
// id learning, the worker hand-off and the latency histogram.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <thread>

#include "imaging.hpp"
#include "loadgen.hpp"

using namespace demo::loadgen;

namespace {

ParseResult parse(std::vector<std::string_view> args, std::map<std::string, std::string> env = {}) {
  return parse_args(args, [env = std::move(env)](const char* name) -> const char* {
    static thread_local std::string value;
    auto it = env.find(name);
    if (it == env.end()) return nullptr;
    value = it->second;
    return value.c_str();
  });
}

}  // namespace

TEST(LoadgenArgs, Defaults) {
  const ParseResult r = parse({});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->rate, 20);
  EXPECT_EQ(r.options->duration, 0);
  EXPECT_EQ(r.options->concurrency, 8);
  EXPECT_EQ(r.options->progress, 5);
  EXPECT_EQ(r.options->wait, 30);
  EXPECT_EQ(r.options->user_url, "http://127.0.0.1:8082");
  EXPECT_EQ(r.options->job_url, "http://127.0.0.1:8083");
  EXPECT_EQ(r.options->image_url, "http://127.0.0.1:8084");
}

TEST(LoadgenArgs, FlagsBothForms) {
  const ParseResult r = parse({"--rate", "55.5", "--duration=12", "--concurrency", "3", "--seed=7", "--progress", "0",
                               "--wait", "1.5", "--user-url", "http://user-svc:8082/", "--job-url=https://[::1]:9",
                               "--image-url", "http://localhost"});
  ASSERT_TRUE(r.options) << r.err;
  EXPECT_DOUBLE_EQ(r.options->rate, 55.5);
  EXPECT_DOUBLE_EQ(r.options->duration, 12);
  EXPECT_EQ(r.options->concurrency, 3);
  EXPECT_EQ(r.options->seed, 7u);
  EXPECT_EQ(r.options->progress, 0);
  EXPECT_DOUBLE_EQ(r.options->wait, 1.5);
  EXPECT_EQ(r.options->user_url, "http://user-svc:8082");
  EXPECT_EQ(r.options->job_url, "https://[::1]:9");
  EXPECT_EQ(r.options->image_url, "http://localhost");
}

TEST(LoadgenArgs, EnvironmentIsAFallback) {
  const std::map<std::string, std::string> env = {{"USER_SVC_URL", "http://u:1"}, {"JOB_SVC_URL", "http://j:2"},
                                                  {"IMAGE_SVC_URL", "http://i:3"}, {"LOADGEN_RATE", "5"},
                                                  {"LOADGEN_DURATION", "60"}};
  const ParseResult from_env = parse({}, env);
  ASSERT_TRUE(from_env.options) << from_env.err;
  EXPECT_EQ(from_env.options->user_url, "http://u:1");
  EXPECT_EQ(from_env.options->job_url, "http://j:2");
  EXPECT_EQ(from_env.options->image_url, "http://i:3");
  EXPECT_EQ(from_env.options->rate, 5);
  EXPECT_EQ(from_env.options->duration, 60);

  const ParseResult flags_win = parse({"--rate", "9", "--user-url", "http://flag:4"}, env);
  ASSERT_TRUE(flags_win.options);
  EXPECT_EQ(flags_win.options->rate, 9);
  EXPECT_EQ(flags_win.options->user_url, "http://flag:4");
  EXPECT_EQ(flags_win.options->duration, 60);

  // An invalid variable is an error unless a flag overrides it; empty = unset.
  const ParseResult bad = parse({}, {{"LOADGEN_RATE", "fast"}});
  EXPECT_FALSE(bad.options);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("LOADGEN_RATE"), std::string::npos);
  EXPECT_TRUE(parse({"--rate=3"}, {{"LOADGEN_RATE", "fast"}}).options);
  EXPECT_TRUE(parse({}, {{"LOADGEN_RATE", ""}}).options);
}

TEST(LoadgenArgs, Errors) {
  for (std::vector<std::string_view> args : std::vector<std::vector<std::string_view>>{
           {"--bogus"}, {"--rate"}, {"--rate", "0"}, {"--rate", "-1"}, {"--rate", "abc"}, {"--rate", "nan"},
           {"--duration", "-1"}, {"--concurrency", "0"}, {"--concurrency", "2.5"}, {"--seed", "-3"},
           {"--user-url", "localhost:8082"}, {"--user-url", "http://host:8082/path"}, {"--job-url", "http://:80"},
           {"--image-url", "http://host:0"}, {"--image-url", "http://host:70000"}, {"positional"}}) {
    const ParseResult r = parse(args);
    EXPECT_FALSE(r.options) << args[0];
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_NE(r.err.find("loadgen --help"), std::string::npos) << r.err;
  }
}

TEST(LoadgenArgs, HelpListsFlagsEnvAndMix) {
  const ParseResult r = parse({"--help"});
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle : {"--rate", "--duration", "--concurrency", "--seed", "--progress", "--wait", "--user-url",
                             "--job-url", "--image-url", "--version", "USER_SVC_URL", "JOB_SVC_URL", "IMAGE_SVC_URL",
                             "LOADGEN_RATE", "LOADGEN_DURATION", "/users/{id}/jobs", "/image_svc/ConvertImage", "/error"})
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle;
  const ParseResult v = parse({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("loadgen", 0), 0u);
}

TEST(LoadgenMix, WeightsSumTo100) {
  double sum = 0;
  for (const MixEntry& e : kMix) sum += e.weight;
  EXPECT_DOUBLE_EQ(sum, 100);
}

TEST(LoadgenMix, PickerHonoursWeights) {
  const MixEntry mix[] = {{Kind::get_user, 70, "", ""}, {Kind::list_users, 0, "", ""}, {Kind::get_error, 30, "", ""}};
  const MixPicker picker(mix);
  std::mt19937_64 rng(1234);
  std::map<Kind, int> counts;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) ++counts[picker.pick(rng)];
  EXPECT_EQ(counts[Kind::list_users], 0);
  EXPECT_NEAR(counts[Kind::get_user] / double(kN), 0.70, 0.01);
  EXPECT_NEAR(counts[Kind::get_error] / double(kN), 0.30, 0.01);

  // The same seed gives the same sequence.
  std::mt19937_64 a(99), b(99);
  const MixPicker real;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(real.pick(a), real.pick(b));
  EXPECT_THROW(MixPicker(std::span<const MixEntry>()), std::invalid_argument);
}

TEST(LoadgenRequests, MixProducesExpectedShares) {
  IdPool users, jobs;
  users.add("1");
  jobs.add("5");
  RequestFactory factory(42, users, jobs, {demo::imaging::make_test_image(16, 16, 1)});
  constexpr int kN = 50000;
  std::array<int, kEndpointCount> per_endpoint{};
  int unknown_users = 0, get_users = 0, large = 0, jobs_created = 0, slow = 0, data = 0, invalid = 0, convert = 0;
  for (int i = 0; i < kN; ++i) {
    const Request r = factory.next();
    ++per_endpoint[static_cast<std::size_t>(r.endpoint)];
    EXPECT_EQ(r.service, kEndpoints[r.endpoint].service);
    EXPECT_EQ(r.method, kEndpoints[r.endpoint].method);
    switch (r.endpoint) {
      case ep_user_get:
        ++get_users;
        if (r.path != "/users/1") ++unknown_users;
        break;
      case ep_user_create_job: {
        ++jobs_created;
        EXPECT_EQ(r.path, "/users/1/jobs");
        const auto body = nlohmann::json::parse(r.body);
        for (const char* key : {"width", "height", "source_width", "source_height"}) EXPECT_TRUE(body.at(key).is_number_integer());
        EXPECT_TRUE(body.at("format") == "pgm" || body.at("format") == "ppm");
        if (body.at("source_width") == 2048 && body.at("source_height") == 1536) ++large;
        break;
      }
      case ep_data_user:
      case ep_data_job:
      case ep_data_image:
        ++data;
        if (r.path == "/data?slow=true") ++slow;
        else EXPECT_EQ(r.path, "/data");
        break;
      case ep_image_convert:
        ++convert;
        EXPECT_EQ(r.path.rfind("/image_svc/ConvertImage?width=", 0), 0u);
        try {
          demo::imaging::decode(r.body);
        } catch (const demo::imaging::DecodeError&) {
          ++invalid;
        }
        break;
      case ep_user_create: {
        const auto body = nlohmann::json::parse(r.body);
        EXPECT_TRUE(body.at("name").is_string());
        EXPECT_NE(body.at("email").get<std::string>().find('@'), std::string::npos);
        break;
      }
      default: break;
    }
  }
  auto share = [&](int n, int of) { return static_cast<double>(n) / of; };
  EXPECT_NEAR(share(per_endpoint[ep_error_user] + per_endpoint[ep_error_job] + per_endpoint[ep_error_image], kN), 0.02, 0.005);
  EXPECT_NEAR(share(get_users, kN), 0.20, 0.01);
  EXPECT_NEAR(share(unknown_users, get_users), kUnknownUserShare, 0.01);
  EXPECT_NEAR(share(large, jobs_created), kLargeJobShare, 0.015);
  EXPECT_NEAR(share(slow, data), kSlowDataShare, 0.015);
  EXPECT_NEAR(share(invalid, convert), kInvalidImageShare, 0.01);
  // /data and /error are spread over the three services.
  for (EndpointId e : {ep_data_user, ep_data_job, ep_data_image})
    EXPECT_NEAR(share(per_endpoint[e], data), 1.0 / 3, 0.03);
}

TEST(LoadgenRequests, SameSeedSameRequests) {
  IdPool u1, j1, u2, j2;
  const std::vector<std::string> images = {demo::imaging::make_test_image(8, 8, 1)};
  RequestFactory a(5, u1, j1, images), b(5, u2, j2, images);
  for (int i = 0; i < 500; ++i) {
    const Request ra = a.next(), rb = b.next();
    ASSERT_EQ(ra.path, rb.path);
    ASSERT_EQ(ra.body, rb.body);
  }
}

TEST(LoadgenIds, LearnedFromResponses) {
  IdPool users, jobs;
  learn_ids(ep_user_create, R"({"id": 17, "name": "x"})", users, jobs);
  learn_ids(ep_user_list, R"([{"id": 1}, {"id": "abc"}, {"name": "no id"}])", users, jobs);
  learn_ids(ep_user_list, R"({"users": [{"id": 2}], "next": null})", users, jobs);
  learn_ids(ep_user_create_job, R"({"job_id": 99, "status": "done"})", users, jobs);
  learn_ids(ep_user_create_job, R"({"job": {"id": 100}})", users, jobs);
  learn_ids(ep_job_list, R"({"jobs": [{"id": 101}, {"id": 99}]})", users, jobs);
  learn_ids(ep_user_create, "not json", users, jobs);
  learn_ids(ep_data_user, R"({"id": 5})", users, jobs);  // not a route that returns ids
  EXPECT_EQ(users.size(), 4u);                          // 17, 1, abc, 2
  EXPECT_EQ(jobs.size(), 3u);                           // 99, 100, 101 (99 once)

  IdPool small(2);
  small.add("a");
  small.add("b");
  small.add("c");  // replaces the oldest
  EXPECT_EQ(small.size(), 2u);
  std::mt19937_64 rng(1);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(*small.pick(rng));
  EXPECT_EQ(seen, (std::set<std::string>{"b", "c"}));
  EXPECT_FALSE(IdPool().pick(rng));
}

TEST(LoadgenWorkQueue, AcceptsOnlyWhatIdleWorkersCanTake) {
  WorkQueue queue;
  EXPECT_FALSE(queue.try_submit(Request{}));  // no worker waiting: skipped
  std::atomic<int> handled{0};
  std::atomic<bool> release{false};
  std::thread worker([&] {
    while (auto r = queue.take()) {
      while (!release) std::this_thread::yield();
      ++handled;
      queue.done();
    }
  });
  // Wait until the worker is idle in take().
  bool accepted = false;
  for (int i = 0; i < 2000 && !accepted; ++i) {
    accepted = queue.try_submit(Request{});
    if (!accepted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(accepted);
  EXPECT_FALSE(queue.try_submit(Request{}));  // the only worker has one already
  release = true;
  EXPECT_TRUE(queue.wait_idle(std::chrono::steady_clock::now() + std::chrono::seconds(5)));
  queue.stop();
  worker.join();
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(queue.in_flight(), 0);
  EXPECT_FALSE(queue.try_submit(Request{}));  // stopped
}

TEST(LoadgenHistogram, Percentiles) {
  LatencyHistogram h;
  EXPECT_FALSE(LatencyHistogram::percentile(h.counts(), 0.95, h.max_ms()));
  for (int i = 1; i <= 100; ++i) h.record(i);  // 1..100 ms
  const auto c = h.counts();
  const double p50 = *LatencyHistogram::percentile(c, 0.50, h.max_ms());
  const double p95 = *LatencyHistogram::percentile(c, 0.95, h.max_ms());
  EXPECT_GE(p50, 50);
  EXPECT_LE(p50, 50 * 1.1);
  EXPECT_GE(p95, 95);
  EXPECT_LE(p95, 100);  // capped at the maximum
  EXPECT_DOUBLE_EQ(*LatencyHistogram::percentile(c, 1.0, h.max_ms()), 100);
  EXPECT_DOUBLE_EQ(h.max_ms(), 100);

  // Windows: the difference of two snapshots.
  for (int i = 0; i < 100; ++i) h.record(700);
  const auto window = LatencyHistogram::minus(h.counts(), c);
  EXPECT_NEAR(*LatencyHistogram::percentile(window, 0.5, h.max_ms()), 700, 70);

  // Out-of-range values land in the first / overflow buckets.
  EXPECT_EQ(LatencyHistogram::bucket_for(0), 0u);
  EXPECT_EQ(LatencyHistogram::bucket_for(1e9), LatencyHistogram::kBuckets);
  EXPECT_GT(LatencyHistogram::upper_bound_ms(LatencyHistogram::kBuckets - 1), 120000);
  LatencyHistogram huge;
  huge.record(500000);
  EXPECT_DOUBLE_EQ(*LatencyHistogram::percentile(huge.counts(), 0.5, huge.max_ms()), 500000);
}

TEST(LoadgenStats, CountsAndProgressLine) {
  Stats s;
  s.sent(ep_user_get);
  s.sent(ep_user_get);
  s.sent(ep_error_job);
  s.sent(ep_image_convert);
  s.skipped(ep_job_list);
  s.response(ep_user_get, 200, 10);
  s.response(ep_user_get, 404, 5);
  s.response(ep_error_job, 500, 2);
  s.failure(ep_image_convert, 2, 2000);
  const Totals t = s.totals();
  EXPECT_EQ(t.sent, 4u);
  EXPECT_EQ(t.s2xx, 1u);
  EXPECT_EQ(t.s4xx, 1u);
  EXPECT_EQ(t.s5xx, 1u);
  EXPECT_EQ(t.failed, 1u);
  EXPECT_EQ(t.skipped, 1u);
  EXPECT_EQ(t.completed(), 4u);
  EXPECT_EQ(s.totals(ep_user_get).sent, 2u);
  EXPECT_EQ(s.failures_with(2), 1u);
  EXPECT_EQ(progress_line(15, t, 20, 42.0),
            "loadgen: 15s sent 4 2xx 1 4xx 1 5xx 1 failed 1 skipped 1 20.0 req/s p95 42 ms");
  EXPECT_EQ(progress_line(5, Totals{}, 0, std::nullopt),
            "loadgen: 5s sent 0 2xx 0 4xx 0 5xx 0 failed 0 skipped 0 0.0 req/s p95 - ms");
}
