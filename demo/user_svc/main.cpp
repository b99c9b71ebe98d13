// user_svc: the users API, the demo's entry point. POST /users/{id}/jobs
// asks job_svc for an image job, carrying the trace context and the
// request id, so one trace runs user_svc -> job_svc -> image_svc. Users are
// kept in memory (100 are there at start). See docs/demo.md.
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "obs/obs.hpp"
#include "service.hpp"

namespace demo {
extern const char kOpenApiDocument[];
}

namespace {

using nlohmann::json;

struct User {
  std::string name;
  std::string email;
};

class UserStore {
 public:
  static constexpr std::size_t kMaxUsers = 100'000;

  explicit UserStore(int seeded) : seeded_(seeded) {
    for (int i = 1; i <= seeded; ++i)
      users_.emplace(i, User{"user " + std::to_string(i), "user" + std::to_string(i) + "@example.com"});
    next_id_ = seeded + 1;
  }
  std::optional<User> find(long long id) const {
    std::shared_lock lock(mu_);
    auto it = users_.find(id);
    if (it == users_.end()) return std::nullopt;
    return it->second;
  }
  long long add(User user) {
    std::unique_lock lock(mu_);
    // Bounded: past the limit the oldest created user goes (the seeded ones stay).
    if (users_.size() >= kMaxUsers) users_.erase(users_.upper_bound(seeded_));
    const long long id = next_id_++;
    users_.emplace(id, std::move(user));
    return id;
  }
  json list(std::size_t limit) const {
    std::shared_lock lock(mu_);
    json out = json::array();
    for (const auto& [id, user] : users_) {
      if (out.size() >= limit) break;
      out.push_back({{"id", id}, {"name", user.name}, {"email", user.email}});
    }
    return out;
  }
  std::size_t size() const {
    std::shared_lock lock(mu_);
    return users_.size();
  }

 private:
  mutable std::shared_mutex mu_;
  std::map<long long, User> users_;
  long long seeded_;
  long long next_id_ = 1;
};

// The {id} path capture as a positive integer, or nothing.
std::optional<long long> user_id(const httplib::Request& req) {
  const std::string text = req.matches[1].str();
  long long id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || p != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace

int main(int argc, char** argv) {
  demo::Service service({.name = "user_svc",
                         .summary = "The demo's users API: the entry point; POST /users/{id}/jobs calls job_svc.",
                         .default_port = 8082,
                         .env = {{"JOB_SVC_URL", "job_svc's base URL (default http://127.0.0.1:8083)"}},
                         .openapi_json = demo::kOpenApiDocument});
  if (auto status = service.parse_args(argc, argv)) return *status;

  demo::Upstream job_svc;
  try {
    job_svc = demo::parse_upstream("JOB_SVC_URL", demo::env_or("JOB_SVC_URL", "http://127.0.0.1:8083"));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "user_svc: %s\n", e.what());
    return 2;
  }
  auto users = std::make_shared<UserStore>(100);
  static const auto job_requests = obs::counter("user_svc.job_requests", {"outcome"},
                                                {.description = "Image jobs asked of job_svc, by outcome (accepted or failed).",
                                                 .unit = "{request}"});

  service.route("GET", "/users", [users](const httplib::Request& req, httplib::Response& res) {
    std::size_t limit = 20;
    if (req.has_param("limit")) {
      const std::string v = req.get_param_value("limit");
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
      if (ec != std::errc() || p != v.data() + v.size() || limit == 0 || limit > 1000)
        return demo::send_error(res, 400, "limit must be from 1 to 1000");
    }
    res.set_content(json{{"users", users->list(limit)}, {"total", users->size()}}.dump(), "application/json");
  });

  service.route("POST", "/users", [users](const httplib::Request& req, httplib::Response& res) {
    const auto parsed = demo::parse_json_body(req.body);
    if (!parsed.error.empty()) return demo::send_error(res, parsed.status, parsed.error);
    const json& body = parsed.value;
    if (!body.is_object() || !body.contains("name") || !body["name"].is_string() || !body.contains("email") ||
        !body["email"].is_string())
      return demo::send_error(res, 400, "the body must be a JSON object with string fields name and email");
    User user{body["name"].get<std::string>(), body["email"].get<std::string>()};
    if (user.name.empty() || user.name.size() > 100) return demo::send_error(res, 400, "name must be 1 to 100 bytes");
    if (user.email.find('@') == std::string::npos || user.email.size() > 254)
      return demo::send_error(res, 400, "email must be an address");
    const long long id = users->add(user);
    // The address is personal data: logged as its domain only.
    obs::log::info("User created", {{"user_id", id}, {"email_domain", user.email.substr(user.email.find('@') + 1)}});
    res.status = 201;
    res.set_content(json{{"id", id}, {"name", user.name}, {"email", user.email}}.dump(), "application/json");
  });

  service.route("GET", "/users/{id}", [users](const httplib::Request& req, httplib::Response& res) {
    const auto id = user_id(req);
    if (!id) return demo::send_error(res, 400, "user id must be a positive integer");
    const auto user = users->find(*id);
    if (!user) return demo::send_error(res, 404, "no user " + std::to_string(*id));
    res.set_content(json{{"id", *id}, {"name", user->name}, {"email", user->email}}.dump(), "application/json");
  });

  service.route("POST", "/users/{id}/jobs", [users, job_svc](const httplib::Request& req, httplib::Response& res) {
    const auto id = user_id(req);
    if (!id) return demo::send_error(res, 400, "user id must be a positive integer");
    if (!users->find(*id)) return demo::send_error(res, 404, "no user " + std::to_string(*id));
    auto parsed = demo::parse_json_body(req.body.empty() ? std::string_view("{}") : std::string_view(req.body));
    if (!parsed.error.empty()) return demo::send_error(res, parsed.status, parsed.error);
    json& request = parsed.value;
    if (!request.is_object()) return demo::send_error(res, 400, "the body must be a JSON object");
    request["user_id"] = *id;  // job_svc validates the rest
    auto result = demo::call(job_svc, "POST", "/jobs", request.dump(), "application/json", std::chrono::seconds(30));
    if (!result) {
      job_requests.labels("failed").inc();
      obs::log::error("job_svc unreachable", {{"user_id", *id}, {"error", httplib::to_string(result.error())}});
      return demo::send_error(res, 502, "job_svc is unreachable");
    }
    const bool accepted = result->status == 201;
    job_requests.labels(accepted ? "accepted" : "failed").inc();
    if (accepted) {
      obs::log::info("Job requested", {{"user_id", *id}, {"job_status", result->status}});
    } else {
      obs::log::warning("Job request refused", {{"user_id", *id}, {"job_status", result->status}});
    }
    // job_svc's own answer, except that its 5xx become a 502 here: the
    // failure is downstream, not in this service.
    res.status = result->status >= 500 ? 502 : result->status;
    res.set_content(result->body, "application/json");
  });

  service.route("GET", "/data", [](const httplib::Request& req, httplib::Response& res) {
    demo::simulated_query(req, "SELECT id, name FROM users ORDER BY id LIMIT 10");
    res.set_content(json{{"rows", 10}}.dump(), "application/json");
  });
  service.route("GET", "/error", demo::answer_error);

  service.on_start([job_svc] {
    obs::health::add_readiness_check("job_svc", [job_svc] { return demo::check_health("job_svc", job_svc); });
  });
  return service.run();
}
