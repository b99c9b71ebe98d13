// demo::loadgen pure parts. See loadgen.hpp.
#include "loadgen.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

#ifndef LOADGEN_VERSION
#define LOADGEN_VERSION "0.0.0"
#endif

namespace demo::loadgen {

std::string_view service_name(Service service) {
  switch (service) {
    case Service::user: return "user_svc";
    case Service::job: return "job_svc";
    case Service::image: return "image_svc";
  }
  return "?";
}

// ---------------------------------------------------------------- mix

MixPicker::MixPicker(std::span<const MixEntry> mix) {
  double sum = 0;
  for (const MixEntry& entry : mix) {
    if (!(entry.weight >= 0) || !std::isfinite(entry.weight)) throw std::invalid_argument("mix weight must be >= 0");
    if (entry.weight == 0) continue;
    sum += entry.weight;
    kinds_.push_back(entry.kind);
    cumulative_.push_back(sum);
  }
  if (kinds_.empty()) throw std::invalid_argument("mix has no entry with a positive weight");
}

Kind MixPicker::pick(std::mt19937_64& rng) const {
  const double r = std::uniform_real_distribution<double>(0, cumulative_.back())(rng);
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), r);
  return kinds_[std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), kinds_.size() - 1)];
}

// ---------------------------------------------------------------- options

const std::string& Options::url(Service service) const {
  switch (service) {
    case Service::user: return user_url;
    case Service::job: return job_url;
    case Service::image: return image_url;
  }
  return user_url;
}

std::string version_text() { return std::string(kProg) + " (obs demo " LOADGEN_VERSION ")\n"; }

std::string usage() {
  std::string text =
      "Usage: loadgen [options]\n"
      "\n"
      "Open-loop load generator for the obs demo services (user_svc, job_svc,\n"
      "image_svc). Waits until every service's /health/ready answers 200, then sends\n"
      "--rate requests per second (Poisson arrivals) from a pool of --concurrency\n"
      "workers, each with its own keep-alive connections. A request that comes due\n"
      "while every worker is busy is counted as skipped, not queued. Prints a progress\n"
      "line every --progress seconds and a per-route summary at the end.\n"
      "\n"
      "Options:\n"
      "  --rate N             requests per second (default 20)\n"
      "  --duration SECONDS   stop after SECONDS (default 0 = run until SIGINT/SIGTERM)\n"
      "  --concurrency N      worker threads = requests in flight at most (default 8)\n"
      "  --seed N             random seed of the request mix (default 42)\n"
      "  --progress SECONDS   progress line interval (default 5; 0 = none)\n"
      "  --wait SECONDS       how long to wait for /health/ready (default 30; 0 = don't)\n"
      "  --user-url URL       user_svc base URL (default http://127.0.0.1:8082)\n"
      "  --job-url URL        job_svc base URL (default http://127.0.0.1:8083)\n"
      "  --image-url URL      image_svc base URL (default http://127.0.0.1:8084)\n"
      "  -h, --help           show this help\n"
      "  --version            print the version\n"
      "Options take their value as the next argument or after '=' (--rate=50).\n"
      "\n"
      "Environment (used when the matching flag is not given; empty = unset):\n"
      "  USER_SVC_URL         --user-url\n"
      "  JOB_SVC_URL          --job-url\n"
      "  IMAGE_SVC_URL        --image-url\n"
      "  LOADGEN_RATE         --rate\n"
      "  LOADGEN_DURATION     --duration\n"
      "\n"
      "Request mix (weights, percent of all requests):\n";
  for (const MixEntry& entry : kMix) {
    char line[200];
    std::snprintf(line, sizeof line, "  %5.1f%%  %-40.*s %.*s", entry.weight, static_cast<int>(entry.request.size()),
                  entry.request.data(), static_cast<int>(entry.notes.size()), entry.notes.data());
    std::string_view trimmed = line;
    while (trimmed.ends_with(' ')) trimmed.remove_suffix(1);
    text.append(trimmed).push_back('\n');
  }
  text +=
      "  POST /users/{id}/jobs sends {\"width\",\"height\",\"format\":\"pgm\"|\"ppm\",\"source_width\",\n"
      "  \"source_height\"}; user and job ids are learned from the services' responses.\n"
      "\n"
      "Timeouts per request: connect 2 s, read 10 s, write 10 s. On SIGINT/SIGTERM (or\n"
      "the end of --duration) no new requests start; in-flight ones get up to 5 s to\n"
      "finish (a second signal cuts that short).\n"
      "\n"
      "Exit status: 0 when done; 1 when a service never became ready or no request\n"
      "succeeded (no 2xx response at all); 2 on bad usage.\n";
  return text;
}

std::optional<std::string> normalize_base_url(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) rest = url.substr(7);
  else if (url.starts_with("https://")) rest = url.substr(8);
  else return std::nullopt;
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty()) return std::nullopt;
  std::string_view host = rest, port;
  if (rest.front() == '[') {  // [IPv6]
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    host = rest.substr(0, close + 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (port.empty()) return std::nullopt;
    }
    for (char c : host.substr(1, host.size() - 2))
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return std::nullopt;
  } else {
    if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
    if (host.empty()) return std::nullopt;
    for (char c : host)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) return std::nullopt;
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) return std::nullopt;
  }
  std::string out(url.substr(0, url.size() - (url.ends_with('/') ? 1 : 0)));
  return out;
}

namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
  T v{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return false;
  out = v;
  return true;
}

// Sets one option from its textual value; returns false when invalid.
bool apply(Options& o, std::string_view name, std::string_view value) {
  if (name == "--rate") return parse_number(value, o.rate) && std::isfinite(o.rate) && o.rate > 0 && o.rate <= 100000;
  if (name == "--duration") return parse_number(value, o.duration) && std::isfinite(o.duration) && o.duration >= 0;
  if (name == "--concurrency") return parse_number(value, o.concurrency) && o.concurrency >= 1 && o.concurrency <= 1024;
  if (name == "--seed") return parse_number(value, o.seed);
  if (name == "--progress") return parse_number(value, o.progress) && std::isfinite(o.progress) && o.progress >= 0;
  if (name == "--wait") return parse_number(value, o.wait) && std::isfinite(o.wait) && o.wait >= 0;
  std::string* url = name == "--user-url" ? &o.user_url : name == "--job-url" ? &o.job_url : name == "--image-url" ? &o.image_url : nullptr;
  if (url) {
    auto normalized = normalize_base_url(value);
    if (!normalized) return false;
    *url = std::move(*normalized);
    return true;
  }
  return false;
}

constexpr std::string_view kValueOptions[] = {"--rate", "--duration", "--concurrency", "--seed", "--progress",
                                              "--wait", "--user-url", "--job-url", "--image-url"};

struct EnvFallback {
  const char* variable;
  std::string_view option;
};
constexpr EnvFallback kEnv[] = {{"USER_SVC_URL", "--user-url"},
                                {"JOB_SVC_URL", "--job-url"},
                                {"IMAGE_SVC_URL", "--image-url"},
                                {"LOADGEN_RATE", "--rate"},
                                {"LOADGEN_DURATION", "--duration"}};

}  // namespace

ParseResult parse_args(std::span<const std::string_view> args, const GetEnv& getenv_fn) {
  ParseResult result;
  auto bad = [&](const std::string& message) {
    result.options.reset();
    result.exit_code = 2;
    result.err = std::string(kProg) + ": " + message + "\nTry 'loadgen --help'.\n";
    return result;
  };
  Options o;
  std::vector<std::string_view> given;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      result.out = usage();
      return result;
    }
    if (arg == "--version") {
      result.out = version_text();
      return result;
    }
    std::string_view name = arg, value;
    bool has_value = false;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (std::find(std::begin(kValueOptions), std::end(kValueOptions), name) == std::end(kValueOptions))
      return bad("unknown option '" + std::string(arg) + "'");
    if (!has_value) {
      if (i + 1 >= args.size()) return bad("option '" + std::string(name) + "' needs a value");
      value = args[++i];
    }
    if (!apply(o, name, value)) return bad("invalid value '" + std::string(value) + "' for " + std::string(name));
    given.push_back(name);
  }
  const GetEnv env = getenv_fn ? getenv_fn : GetEnv([](const char* n) -> const char* { return std::getenv(n); });
  for (const EnvFallback& fallback : kEnv) {
    if (std::find(given.begin(), given.end(), fallback.option) != given.end()) continue;
    const char* value = env(fallback.variable);
    if (!value || !*value) continue;
    if (!apply(o, fallback.option, value))
      return bad("invalid value '" + std::string(value) + "' in environment variable " + fallback.variable);
  }
  result.options = std::move(o);
  return result;
}

// ---------------------------------------------------------------- requests

void IdPool::add(std::string id) {
  if (id.empty() || id.size() > 128) return;
  std::lock_guard lock(mu_);
  if (std::find(ids_.begin(), ids_.end(), id) != ids_.end()) return;
  if (ids_.size() < capacity_) {
    ids_.push_back(std::move(id));
  } else {
    ids_[next_] = std::move(id);
    next_ = (next_ + 1) % capacity_;
  }
}

std::optional<std::string> IdPool::pick(std::mt19937_64& rng) const {
  std::lock_guard lock(mu_);
  if (ids_.empty()) return std::nullopt;
  return ids_[std::uniform_int_distribution<std::size_t>(0, ids_.size() - 1)(rng)];
}

std::size_t IdPool::size() const {
  std::lock_guard lock(mu_);
  return ids_.size();
}

RequestFactory::RequestFactory(std::uint64_t seed, IdPool& users, IdPool& jobs, std::vector<std::string> sample_images)
    : rng_(seed), users_(users), jobs_(jobs), images_(std::move(sample_images)) {
  if (images_.empty()) throw std::invalid_argument("RequestFactory needs at least one sample image");
}

bool RequestFactory::chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
int RequestFactory::uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

// A known user id, or (before any is known) a small one that a seeded
// user_svc is likely to have.
std::string RequestFactory::user_id() {
  if (auto id = users_.pick(rng_)) return *id;
  return std::to_string(uniform(1, 10));
}

Request RequestFactory::next() { return make(picker_.pick(rng_)); }

Request RequestFactory::make(Kind kind) {
  Request r;
  r.method = "GET";
  auto on = [&](EndpointId e) {
    r.endpoint = e;
    r.service = kEndpoints[e].service;
  };
  auto any_service = [&](EndpointId first) { on(static_cast<EndpointId>(first + uniform(0, kServiceCount - 1))); };
  switch (kind) {
    case Kind::get_user: {
      on(ep_user_get);
      const std::string id =
          chance(kUnknownUserShare) ? std::to_string(900'000'000 + uniform(0, 99'999'999)) : user_id();
      r.path = "/users/" + id;
      break;
    }
    case Kind::list_users:
      on(ep_user_list);
      r.path = "/users";
      break;
    case Kind::create_user: {
      on(ep_user_create);
      static constexpr const char* kFirst[] = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Dennis"};
      static constexpr const char* kLast[] = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton", "Ritchie"};
      const char* first = kFirst[uniform(0, 7)];
      const char* last = kLast[uniform(0, 7)];
      const std::uint64_t n = ++created_;
      const std::uint32_t tag = static_cast<std::uint32_t>(rng_());
      char email[96];
      std::snprintf(email, sizeof email, "%s.%s.%llu.%08x@example.com", first, last,
                    static_cast<unsigned long long>(n), tag);
      for (char* c = email; *c; ++c) *c = static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
      r.method = "POST";
      r.path = "/users";
      r.content_type = "application/json";
      r.body = nlohmann::json{{"name", std::string(first) + " " + last}, {"email", email}}.dump();
      break;
    }
    case Kind::create_job: {
      on(ep_user_create_job);
      static constexpr int kSmallSources[][2] = {{320, 240}, {400, 300}, {640, 480}, {800, 600}};
      static constexpr int kTargets[][2] = {{64, 48}, {128, 96}, {160, 120}, {256, 192}, {320, 240}};
      int sw, sh;
      if (chance(kLargeJobShare)) {
        sw = kLargeSourceWidth;
        sh = kLargeSourceHeight;
      } else {
        const auto& s = kSmallSources[uniform(0, 3)];
        sw = s[0];
        sh = s[1];
      }
      const auto& t = kTargets[uniform(0, 4)];
      r.method = "POST";
      r.path = "/users/" + user_id() + "/jobs";
      r.content_type = "application/json";
      r.body = nlohmann::json{{"width", t[0]},
                              {"height", t[1]},
                              {"format", chance(0.5) ? "pgm" : "ppm"},
                              {"source_width", sw},
                              {"source_height", sh}}
                   .dump();
      break;
    }
    case Kind::get_job: {
      on(ep_job_get);
      auto id = jobs_.pick(rng_);
      r.path = "/jobs/" + (id ? *id : std::to_string(uniform(1, 10)));
      break;
    }
    case Kind::list_jobs:
      on(ep_job_list);
      r.path = "/jobs";
      break;
    case Kind::get_data:
      any_service(ep_data_user);
      r.path = chance(kSlowDataShare) ? "/data?slow=true" : "/data";
      break;
    case Kind::get_error:
      any_service(ep_error_user);
      r.path = "/error";
      break;
    case Kind::convert_image: {
      on(ep_image_convert);
      static constexpr int kTargets[][2] = {{32, 24}, {48, 48}, {64, 48}, {100, 75}, {160, 120}};
      const auto& t = kTargets[uniform(0, 4)];
      r.method = "POST";
      r.path = "/image_svc/ConvertImage?width=" + std::to_string(t[0]) + "&height=" + std::to_string(t[1]) +
               "&format=" + (chance(0.5) ? "pgm" : "ppm");
      r.content_type = "image/x-portable-pixmap";
      const std::string& image = images_[static_cast<std::size_t>(uniform(0, static_cast<int>(images_.size()) - 1))];
      if (chance(kInvalidImageShare)) {
        switch (uniform(0, 2)) {
          case 0: r.body = "this is not an image"; break;
          case 1: r.body = image.substr(0, image.size() / 2); break;  // truncated pixel data
          default: r.body = "P6\n99999 99999\n255\n"; break;           // over the size limits
        }
      } else {
        r.body = image;
      }
      break;
    }
  }
  return r;
}

namespace {

std::optional<std::string> id_of(const nlohmann::json& value, std::initializer_list<const char*> keys) {
  if (!value.is_object()) return std::nullopt;
  for (const char* key : keys) {
    const auto it = value.find(key);
    if (it == value.end()) continue;
    if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object())
      if (auto nested = id_of(*it, {"id"})) return nested;  // {"job": {"id": ...}}
  }
  return std::nullopt;
}

void learn_list(const nlohmann::json& doc, const char* wrapper, IdPool& pool) {
  const nlohmann::json* list = &doc;
  if (doc.is_object()) {
    const auto it = doc.find(wrapper);
    if (it == doc.end()) {
      const auto items = doc.find("items");
      if (items == doc.end()) return;
      list = &*items;
    } else {
      list = &*it;
    }
  }
  if (!list->is_array()) return;
  std::size_t n = 0;
  for (const auto& item : *list) {
    if (++n > 200) break;
    if (auto id = id_of(item, {"id"})) pool.add(*id);
  }
}

}  // namespace

void learn_ids(EndpointId endpoint, std::string_view body, IdPool& users, IdPool& jobs) {
  if (body.empty() || body.size() > (4u << 20)) return;
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return;
  switch (endpoint) {
    case ep_user_create:
      if (auto id = id_of(doc, {"id", "user_id"})) users.add(*id);
      break;
    case ep_user_create_job:
      if (auto id = id_of(doc, {"job_id", "id", "job"})) jobs.add(*id);
      break;
    case ep_user_list: learn_list(doc, "users", users); break;
    case ep_job_list: learn_list(doc, "jobs", jobs); break;
    default: break;
  }
}

// ---------------------------------------------------------------- workers

bool WorkQueue::try_submit(Request request) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || static_cast<int>(queue_.size()) >= idle_workers_) return false;
    queue_.push_back(std::move(request));
  }
  work_cv_.notify_one();
  return true;
}

std::optional<Request> WorkQueue::take() {
  std::unique_lock lock(mu_);
  ++idle_workers_;
  work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  --idle_workers_;
  if (stopping_) return std::nullopt;
  Request r = std::move(queue_.front());
  queue_.pop_front();
  ++in_flight_;
  return r;
}

void WorkQueue::done() {
  bool idle;
  {
    std::lock_guard lock(mu_);
    idle = --in_flight_ == 0 && queue_.empty();
  }
  if (idle) idle_cv_.notify_all();
}

void WorkQueue::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  work_cv_.notify_all();
}

bool WorkQueue::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_until(lock, deadline, [&] { return in_flight_ == 0 && queue_.empty(); });
}

int WorkQueue::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

// ---------------------------------------------------------------- statistics

namespace {
constexpr double kFirstBoundMs = 0.1;
constexpr double kGrowth = 1.1;

const std::array<double, LatencyHistogram::kBuckets>& bounds() {
  static const auto table = [] {
    std::array<double, LatencyHistogram::kBuckets> b{};
    double v = kFirstBoundMs;
    for (auto& x : b) {
      x = v;
      v *= kGrowth;
    }
    return b;
  }();
  return table;
}
}  // namespace

double LatencyHistogram::upper_bound_ms(std::size_t bucket) { return bounds()[bucket]; }

std::size_t LatencyHistogram::bucket_for(double ms) {
  const auto& b = bounds();
  return static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), ms) - b.begin());  // kBuckets = overflow
}

void LatencyHistogram::record(double ms) {
  if (!(ms >= 0)) ms = 0;
  buckets_[bucket_for(ms)].fetch_add(1, std::memory_order_relaxed);
  const auto us = static_cast<std::uint64_t>(std::llround(std::min(ms, 1e12) * 1000));
  std::uint64_t seen = max_us_.load(std::memory_order_relaxed);
  while (us > seen && !max_us_.compare_exchange_weak(seen, us, std::memory_order_relaxed)) {
  }
}

LatencyHistogram::Counts LatencyHistogram::counts() const {
  Counts c{};
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = buckets_[i].load(std::memory_order_relaxed);
  return c;
}

LatencyHistogram::Counts LatencyHistogram::minus(const Counts& a, const Counts& b) {
  Counts c{};
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = a[i] >= b[i] ? a[i] - b[i] : 0;
  return c;
}

std::optional<double> LatencyHistogram::percentile(const Counts& counts, double q, double max_ms) {
  std::uint64_t total = 0;
  for (auto n : counts) total += n;
  if (total == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total))));
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    if (cumulative >= rank) return i < kBuckets ? std::min(upper_bound_ms(i), max_ms) : max_ms;
  }
  return max_ms;
}

void Stats::response(EndpointId e, int status, double ms) {
  Row& r = row(e);
  auto& counter = status >= 200 && status < 300   ? r.s2xx
                  : status >= 400 && status < 500 ? r.s4xx
                  : status >= 500 && status < 600 ? r.s5xx
                                                  : r.other;
  counter.fetch_add(1, std::memory_order_relaxed);
  r.latency.record(ms);
  all_.record(ms);
}

void Stats::failure(EndpointId e, int error_code, double ms) {
  row(e).failed.fetch_add(1, std::memory_order_relaxed);
  (void)ms;  // a transport failure's time says nothing about the service
  errors_[static_cast<std::size_t>(std::clamp(error_code, 0, kErrorKinds - 1))].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Stats::failures_with(int error_code) const {
  if (error_code < 0 || error_code >= kErrorKinds) return 0;
  return errors_[static_cast<std::size_t>(error_code)].load(std::memory_order_relaxed);
}

Totals Stats::read(const Row& row) {
  Totals t;
  t.sent = row.sent.load(std::memory_order_relaxed);
  t.s2xx = row.s2xx.load(std::memory_order_relaxed);
  t.s4xx = row.s4xx.load(std::memory_order_relaxed);
  t.s5xx = row.s5xx.load(std::memory_order_relaxed);
  t.other = row.other.load(std::memory_order_relaxed);
  t.failed = row.failed.load(std::memory_order_relaxed);
  t.skipped = row.skipped.load(std::memory_order_relaxed);
  return t;
}

Totals Stats::totals(EndpointId e) const { return read(rows_[static_cast<std::size_t>(e)]); }

Totals Stats::totals() const {
  Totals sum;
  for (const Row& row : rows_) {
    const Totals t = read(row);
    sum.sent += t.sent;
    sum.s2xx += t.s2xx;
    sum.s4xx += t.s4xx;
    sum.s5xx += t.s5xx;
    sum.other += t.other;
    sum.failed += t.failed;
    sum.skipped += t.skipped;
  }
  return sum;
}

std::string format_ms(std::optional<double> ms) {
  if (!ms) return "-";
  char buf[32];
  if (*ms < 10) std::snprintf(buf, sizeof buf, "%.1f", *ms);
  else std::snprintf(buf, sizeof buf, "%.0f", *ms);
  return buf;
}

std::string progress_line(double elapsed_seconds, const Totals& t, double rate, std::optional<double> p95_ms) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%s: %.0fs sent %llu 2xx %llu 4xx %llu 5xx %llu failed %llu skipped %llu %.1f req/s p95 %s ms", kProg,
                elapsed_seconds, static_cast<unsigned long long>(t.sent), static_cast<unsigned long long>(t.s2xx),
                static_cast<unsigned long long>(t.s4xx), static_cast<unsigned long long>(t.s5xx),
                static_cast<unsigned long long>(t.failed), static_cast<unsigned long long>(t.skipped), rate,
                format_ms(p95_ms).c_str());
  std::string line = buf;
  if (t.other) line += " other " + std::to_string(t.other);
  return line;
}

}  // namespace demo::loadgen
