// demo::loadgen — the pure parts of the demo's load generator: options,
// the request mix, request building, id learning, the worker hand-off and
// latency statistics. main.cpp adds the HTTP clients, threads and signals.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace demo::loadgen {

inline constexpr const char* kProg = "loadgen";

// ---------------------------------------------------------------- services

enum class Service : int { user = 0, job = 1, image = 2 };
inline constexpr int kServiceCount = 3;
std::string_view service_name(Service service);  // "user_svc", "job_svc", "image_svc"

// One row of the summary: a service's route template.
struct Endpoint {
  Service service;
  std::string_view method;
  std::string_view route;
};

enum EndpointId : int {
  ep_user_get = 0,      // GET  user_svc /users/{id}
  ep_user_list,         // GET  user_svc /users
  ep_user_create,       // POST user_svc /users
  ep_user_create_job,   // POST user_svc /users/{id}/jobs
  ep_job_get,           // GET  job_svc /jobs/{id}
  ep_job_list,          // GET  job_svc /jobs
  ep_data_user,         // GET  <svc> /data
  ep_data_job,
  ep_data_image,
  ep_error_user,        // GET  <svc> /error
  ep_error_job,
  ep_error_image,
  ep_image_convert,     // POST image_svc /image_svc/ConvertImage
  kEndpointCount
};

inline constexpr Endpoint kEndpoints[kEndpointCount] = {
    {Service::user, "GET", "/users/{id}"},
    {Service::user, "GET", "/users"},
    {Service::user, "POST", "/users"},
    {Service::user, "POST", "/users/{id}/jobs"},
    {Service::job, "GET", "/jobs/{id}"},
    {Service::job, "GET", "/jobs"},
    {Service::user, "GET", "/data"},
    {Service::job, "GET", "/data"},
    {Service::image, "GET", "/data"},
    {Service::user, "GET", "/error"},
    {Service::job, "GET", "/error"},
    {Service::image, "GET", "/error"},
    {Service::image, "POST", "/image_svc/ConvertImage"},
};

// ---------------------------------------------------------------- the mix

enum class Kind { get_user, list_users, create_user, create_job, get_job, list_jobs, get_data, get_error, convert_image };

struct MixEntry {
  Kind kind;
  double weight;  // relative; the table sums to 100 so weights read as percentages
  std::string_view request;
  std::string_view notes;
};

// The request mix. Shares inside an entry (unknown ids, large images, slow
// queries, invalid bodies) are the k* constants below.
inline constexpr MixEntry kMix[] = {
    {Kind::get_user, 20, "GET  user_svc  /users/{id}", "~5% unknown ids (404)"},
    {Kind::list_users, 8, "GET  user_svc  /users", ""},
    {Kind::create_user, 8, "POST user_svc  /users", "JSON {\"name\",\"email\"}"},
    {Kind::create_job, 10, "POST user_svc  /users/{id}/jobs", "~4% large 2048x1536 sources (slow)"},
    {Kind::get_job, 10, "GET  job_svc   /jobs/{id}", ""},
    {Kind::list_jobs, 6, "GET  job_svc   /jobs", ""},
    {Kind::get_data, 18, "GET  <any>     /data", "random service; ~3% ?slow=true"},
    {Kind::get_error, 2, "GET  <any>     /error", "random service; always 500"},
    {Kind::convert_image, 18, "POST image_svc /image_svc/ConvertImage", "small PPM; ~5% invalid body (400)"},
};

inline constexpr double kUnknownUserShare = 0.05;
inline constexpr double kLargeJobShare = 0.04;
inline constexpr double kSlowDataShare = 0.03;
inline constexpr double kInvalidImageShare = 0.05;
inline constexpr int kLargeSourceWidth = 2048, kLargeSourceHeight = 1536;

// Picks mix entries in proportion to their weights.
class MixPicker {
 public:
  explicit MixPicker(std::span<const MixEntry> mix = kMix);
  Kind pick(std::mt19937_64& rng) const;

 private:
  std::vector<Kind> kinds_;
  std::vector<double> cumulative_;
};

// ---------------------------------------------------------------- options

struct Options {
  double rate = 20;            // requests per second (open loop)
  double duration = 0;         // seconds; 0 = until SIGINT/SIGTERM
  int concurrency = 8;         // workers
  std::uint64_t seed = 42;
  double progress = 5;         // seconds between progress lines; 0 = none
  double wait = 30;            // seconds to wait for /health/ready; 0 = don't wait
  std::string user_url = "http://127.0.0.1:8082";
  std::string job_url = "http://127.0.0.1:8083";
  std::string image_url = "http://127.0.0.1:8084";

  const std::string& url(Service service) const;
};

// Either options to run with, or an exit status with text for stdout/stderr
// (--help, --version, or an error).
struct ParseResult {
  std::optional<Options> options;
  int exit_code = 0;
  std::string out;
  std::string err;
};

using GetEnv = std::function<const char*(const char*)>;
// args excludes argv[0]. getenv defaults to std::getenv. Flags override the
// environment; empty environment values count as unset.
ParseResult parse_args(std::span<const std::string_view> args, const GetEnv& getenv = {});
std::string usage();
std::string version_text();

// "http://host[:port]" or "https://host[:port]" (an optional trailing '/'
// is dropped). Returns nullopt for anything else (paths included).
std::optional<std::string> normalize_base_url(std::string_view url);

// ---------------------------------------------------------------- requests

// Ids learned from responses (user ids from POST/GET /users, job ids from
// POST /users/{id}/jobs and GET /jobs); bounded, oldest replaced first.
class IdPool {
 public:
  explicit IdPool(std::size_t capacity = 1000) : capacity_(capacity) {}
  void add(std::string id);
  std::optional<std::string> pick(std::mt19937_64& rng) const;
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::size_t capacity_;
  std::size_t next_ = 0;
  std::vector<std::string> ids_;
};

struct Request {
  EndpointId endpoint = ep_user_list;
  Service service = Service::user;
  std::string method;
  std::string path;  // with query
  std::string body;
  std::string content_type;
};

// Builds the requests of the mix. Not thread-safe (one per dispatcher);
// the id pools are.
class RequestFactory {
 public:
  // sample_images: valid small PPMs to POST to ConvertImage (at least one).
  RequestFactory(std::uint64_t seed, IdPool& users, IdPool& jobs, std::vector<std::string> sample_images);
  Request next();
  Request make(Kind kind);
  std::mt19937_64& rng() { return rng_; }

 private:
  bool chance(double p);
  int uniform(int lo, int hi);  // inclusive
  std::string user_id();

  std::mt19937_64 rng_;
  MixPicker picker_;
  IdPool& users_;
  IdPool& jobs_;
  std::vector<std::string> images_;
  std::uint64_t created_ = 0;
};

// Remembers ids from a 2xx response body of `endpoint` (JSON objects with
// "id" / "job_id", arrays of them, or {"users": [...]} / {"jobs": [...]}).
void learn_ids(EndpointId endpoint, std::string_view body, IdPool& users, IdPool& jobs);

// ---------------------------------------------------------------- workers

// The hand-off from the dispatcher to the workers: a request is accepted
// only when a worker is idle to take it, so nothing queues without bound.
class WorkQueue {
 public:
  bool try_submit(Request request);       // false: every worker busy (or stopping)
  std::optional<Request> take();          // blocks; nullopt once stopping
  void done();                            // a taken request finished
  void stop();                            // wakes every worker; drops what is still queued
  bool wait_idle(std::chrono::steady_clock::time_point deadline);  // true when nothing is queued or in flight
  int in_flight() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<Request> queue_;
  int idle_workers_ = 0;
  int in_flight_ = 0;
  bool stopping_ = false;
};

// ---------------------------------------------------------------- statistics

// Latency histogram with fixed geometric buckets (0.1 ms .. ~2 min, 10%
// apart) and lock-free recording. Percentiles are bucket upper bounds,
// capped at the largest value seen.
class LatencyHistogram {
 public:
  static constexpr std::size_t kBuckets = 150;  // plus one overflow bucket
  using Counts = std::array<std::uint64_t, kBuckets + 1>;

  static double upper_bound_ms(std::size_t bucket);  // bucket < kBuckets
  static std::size_t bucket_for(double ms);

  void record(double ms);
  Counts counts() const;
  double max_ms() const { return max_us_.load(std::memory_order_relaxed) / 1000.0; }

  // q in [0, 1]; nullopt when counts are all zero.
  static std::optional<double> percentile(const Counts& counts, double q, double max_ms);
  static Counts minus(const Counts& a, const Counts& b);

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets + 1> buckets_{};
  std::atomic<std::uint64_t> max_us_{0};
};

struct Totals {
  std::uint64_t sent = 0, s2xx = 0, s4xx = 0, s5xx = 0, other = 0, failed = 0, skipped = 0;
  std::uint64_t completed() const { return s2xx + s4xx + s5xx + other + failed; }
};

class Stats {
 public:
  static constexpr int kErrorKinds = 32;  // transport error codes (httplib::Error values)

  void sent(EndpointId e) { row(e).sent.fetch_add(1, std::memory_order_relaxed); }
  void skipped(EndpointId e) { row(e).skipped.fetch_add(1, std::memory_order_relaxed); }
  void response(EndpointId e, int status, double ms);
  void failure(EndpointId e, int error_code, double ms);

  Totals totals() const;
  Totals totals(EndpointId e) const;
  const LatencyHistogram& latency() const { return all_; }
  const LatencyHistogram& latency(EndpointId e) const { return rows_[static_cast<std::size_t>(e)].latency; }
  std::uint64_t failures_with(int error_code) const;

 private:
  struct Row {
    std::atomic<std::uint64_t> sent{0}, s2xx{0}, s4xx{0}, s5xx{0}, other{0}, failed{0}, skipped{0};
    LatencyHistogram latency;
  };
  Row& row(EndpointId e) { return rows_[static_cast<std::size_t>(e)]; }
  static Totals read(const Row& row);

  std::array<Row, kEndpointCount> rows_;
  LatencyHistogram all_;
  std::array<std::atomic<std::uint64_t>, kErrorKinds> errors_{};
};

// "loadgen: 15s sent 300 2xx 280 4xx 12 5xx 8 failed 0 skipped 0 20.0 req/s p95 42 ms"
std::string progress_line(double elapsed_seconds, const Totals& totals, double rate, std::optional<double> p95_ms);
std::string format_ms(std::optional<double> ms);

}  // namespace demo::loadgen
