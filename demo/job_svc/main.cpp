// job_svc: image jobs. POST /jobs records a job in PostgreSQL (libpqxx,
// through obs/pqxx.hpp: a span and db_client_* metrics per statement),
// makes the source image, asks image_svc to convert it, and records the
// outcome. See docs/demo.md.
#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "db_pool.hpp"
#include "imaging.hpp"
#include "obs/obs.hpp"
#include "obs/pqxx.hpp"
#include "service.hpp"

namespace demo {
extern const char kOpenApiDocument[];
}

namespace {

using nlohmann::json;

struct JobRequest {
  long long user_id = 0;
  int width = 0, height = 0, source_width = 0, source_height = 0;
  std::string format;
};

// Returns an error message, or empty when `body` is a valid job request;
// `status` is the answer's status for that error (413 or 400).
std::string parse_job(const std::string &body, JobRequest &job, int &status) {
  status = 400;
  const auto parsed = demo::parse_json_body(body);
  if (!parsed.error.empty()) {
    status = parsed.status;
    return parsed.error;
  }
  const json &j = parsed.value;
  if (!j.is_object()) return "the body must be a JSON object";
  auto integer = [&](const char *key, auto &out, long long lo, long long hi) -> std::string {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::string(key) + " must be an integer";
    const long long v = it->get<long long>();
    if (v < lo || v > hi) return std::string(key) + " must be from " + std::to_string(lo) + " to " + std::to_string(hi);
    out = static_cast<std::remove_reference_t<decltype(out)>>(v);
    return {};
  };
  constexpr long long kMax = 4096;  // a demo job, not a DoS
  for (auto error : {integer("user_id", job.user_id, 1, 1LL << 53), integer("width", job.width, 1, kMax),
                     integer("height", job.height, 1, kMax), integer("source_width", job.source_width, 1, kMax),
                     integer("source_height", job.source_height, 1, kMax)})
    if (!error.empty()) return error;
  job.format = "ppm";
  if (auto it = j.find("format"); it != j.end()) {
    const auto format = it->is_string() ? demo::imaging::parse_format(it->get<std::string>()) : std::nullopt;
    if (!format) return "format must be \"ppm\" or \"pgm\"";
    job.format = *format == demo::imaging::Format::pgm ? "pgm" : "ppm";
  }
  return {};
}

json job_json(const pqxx::row &row) {
  json j{{"id", row["id"].as<long long>()},        {"user_id", row["user_id"].as<long long>()},
         {"status", row["status"].c_str()},        {"width", row["width"].as<int>()},
         {"height", row["height"].as<int>()},      {"format", row["format"].c_str()},
         {"created_at", row["created_at"].c_str()}};
  if (!row["output_bytes"].is_null()) j["output_bytes"] = row["output_bytes"].as<long long>();
  if (!row["error"].is_null()) j["error"] = row["error"].c_str();
  return j;
}

constexpr const char *kJobColumns =
    "id, user_id, status, width, height, "
    "format, output_bytes, error, created_at";

// DATABASE_URL's password, to keep it out of messages: libpq quotes parts
// of a malformed conninfo in its errors.
std::string g_db_password;

std::string redact(std::string text) {
  if (g_db_password.size() < 2) return text;
  for (std::size_t at; (at = text.find(g_db_password)) != std::string::npos;)
    text.replace(at, g_db_password.size(), "***");
  return text;
}

// The password in a libpq URI (scheme://user:password@host...) or
// key=value string (password=...), as written.
std::string password_of(const std::string &conninfo) {
  if (auto scheme = conninfo.find("://"); scheme != std::string::npos) {
    const auto at = conninfo.find('@', scheme);
    const auto colon = conninfo.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      return conninfo.substr(colon + 1, at - colon - 1);
    return {};
  }
  const auto key = conninfo.find("password");
  if (key == std::string::npos) return {};
  auto start = conninfo.find('=', key);
  if (start == std::string::npos) return {};
  start = conninfo.find_first_not_of(" '", start + 1);
  if (start == std::string::npos) return {};
  const auto end = conninfo.find_first_of(" '", start);
  return conninfo.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Maps a database failure to the answer and a log line.
void database_failed(httplib::Response &res, const std::exception &e) {
  obs::log::error("Database operation failed", {{"error", redact(e.what())}});
  demo::send_error(res, 503, "the database is unavailable");
}

}  // namespace

int main(int argc, char **argv) {
  demo::Service service({.name = "job_svc",
                         .summary = "The demo's job service: records image jobs in PostgreSQL "
                                    "and has image_svc convert them.",
                         .default_port = 8083,
                         .env = {{"DATABASE_URL",
                                  "libpq connection URI (default "
                                  "postgresql://obs:obs@127.0.0.1:5432/obs_demo)"},
                                 {"IMAGE_SVC_URL", "image_svc's base URL (default http://127.0.0.1:8084)"},
                                 {"DB_POOL_SIZE", "database connections at most (default 4)"}},
                         .openapi_json = demo::kOpenApiDocument});
  if (auto status = service.parse_args(argc, argv)) return *status;

  demo::Upstream image_svc;
  std::size_t pool_size = 4;
  try {
    image_svc = demo::parse_upstream("IMAGE_SVC_URL", demo::env_or("IMAGE_SVC_URL", "http://127.0.0.1:8084"));
    const std::string size = demo::env_or("DB_POOL_SIZE", "4");
    auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), pool_size);
    if (ec != std::errc() || p != size.data() + size.size() || pool_size == 0 || pool_size > 64)
      throw std::invalid_argument("DB_POOL_SIZE='" + size + "' must be a number from 1 to 64");
  } catch (const std::invalid_argument &e) {
    std::fprintf(stderr, "job_svc: %s\n", e.what());
    return 2;
  }
  std::string conninfo = demo::env_or("DATABASE_URL", "postgresql://obs:obs@127.0.0.1:5432/obs_demo");
  g_db_password = password_of(conninfo);
  // A down database must fail a request in seconds, not hang it.
  if (conninfo.find("connect_timeout") == std::string::npos) {
    if (conninfo.find("://") == std::string::npos)
      conninfo += " connect_timeout=3";
    else
      conninfo += conninfo.find('?') == std::string::npos ? "?connect_timeout=3" : "&connect_timeout=3";
  }
  auto pool = std::make_shared<demo::DbPool>(conninfo, pool_size);
  auto generators = std::make_shared<demo::Limiter>(std::max(2u, std::thread::hardware_concurrency()));

  static const auto jobs_total =
      obs::counter("job_svc.jobs", {"status"},
                   {.description = "Jobs finished, by outcome (done or failed).", .unit = "{job}"});

  service.route("POST", "/jobs", [pool, image_svc, generators](const httplib::Request &req, httplib::Response &res) {
    JobRequest job;
    int refusal = 400;
    if (auto error = parse_job(req.body, job, refusal); !error.empty()) return demo::send_error(res, refusal, error);
    long long id = 0;
    try {
      pool->run([&](pqxx::connection &conn) {
        pqxx::work tx(conn);
        auto rows =
            obs::pqxx::exec(tx,
                            "INSERT INTO jobs (user_id, status, source_width, "
                            "source_height, width, height, "
                            "format) VALUES ($1, 'queued', $2, $3, $4, $5, $6) RETURNING "
                            "id",
                            job.user_id, job.source_width, job.source_height, job.width, job.height, job.format);
        tx.commit();
        id = rows[0][0].as<long long>();
      });
    } catch (const std::exception &e) {
      return database_failed(res, e);
    }
    obs::log::info("Job queued", {{"job_id", id}, {"user_id", job.user_id}, {"format", job.format}});

    std::string source;
    {
      // Up to 48 MiB per source image: a few at a time.
      demo::Admission admission(*generators, std::chrono::seconds(5));
      obs::Span span("generate source image", {{"image.width", job.source_width}, {"image.height", job.source_height}});
      if (admission) {
        source = demo::imaging::make_test_image(job.source_width, job.source_height, static_cast<std::uint32_t>(id));
      } else {
        span.set_status(obs::SpanStatus::Error, "busy");
      }
    }
    const std::string path = "/image_svc/ConvertImage?width=" + std::to_string(job.width) +
                             "&height=" + std::to_string(job.height) + "&format=" + job.format;
    httplib::Result result = source.empty() ? httplib::Result{nullptr, httplib::Error::Unknown}
                                            : demo::call(image_svc, "POST", path, source, "image/x-portable-pixmap");

    std::string status = "done", error;
    long long output_bytes = 0;
    if (source.empty()) {
      status = "failed";
      error = "too many jobs in progress";
    } else if (!result) {
      status = "failed";
      error = "image_svc unreachable: " + httplib::to_string(result.error());
    } else if (result->status != 200) {
      status = "failed";
      error = "image_svc answered " + std::to_string(result->status);
    } else {
      output_bytes = static_cast<long long>(result->body.size());
    }
    json answer;
    jobs_total.labels(status).inc();
    try {
      pool->run([&](pqxx::connection &conn) {
        pqxx::work tx(conn);
        auto rows = status == "done" ? obs::pqxx::exec(tx,
                                                       std::string("UPDATE jobs SET status = 'done', "
                                                                   "output_bytes = $2, updated_at = "
                                                                   "now() WHERE id = $1 RETURNING ") +
                                                           kJobColumns,
                                                       id, output_bytes)
                                     : obs::pqxx::exec(tx,
                                                       std::string("UPDATE jobs SET status = 'failed', "
                                                                   "error = $2, updated_at = "
                                                                   "now() WHERE id = $1 RETURNING ") +
                                                           kJobColumns,
                                                       id, error);
        tx.commit();
        answer = job_json(rows[0]);
      });
    } catch (const std::exception &e) {
      // The row stays 'queued'; the outcome was counted above.
      return database_failed(res, e);
    }
    if (status == "done") {
      obs::log::info("Job done", {{"job_id", id}, {"output_bytes", output_bytes}});
      res.status = 201;
    } else {
      obs::log::error("Job failed", {{"job_id", id}, {"error", error}});
      res.status = 502;
    }
    res.set_content(answer.dump(), "application/json");
  });

  service.route("GET", "/jobs/{id}", [pool](const httplib::Request &req, httplib::Response &res) {
    long long id = 0;
    const std::string text = req.matches[1].str();
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || p != text.data() + text.size() || id <= 0)
      return demo::send_error(res, 400, "job id must be a positive integer");
    try {
      pool->run([&](pqxx::connection &conn) {
        pqxx::read_transaction tx(conn);
        auto rows = obs::pqxx::exec(tx, std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1", id);
        if (rows.empty()) return demo::send_error(res, 404, "no job " + text);
        res.set_content(job_json(rows[0]).dump(), "application/json");
      });
    } catch (const std::exception &e) {
      database_failed(res, e);
    }
  });

  service.route("GET", "/jobs", [pool](const httplib::Request &req, httplib::Response &res) {
    long long user_id = 0;
    if (req.has_param("user_id")) {
      const std::string text = req.get_param_value("user_id");
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), user_id);
      if (ec != std::errc() || p != text.data() + text.size() || user_id <= 0)
        return demo::send_error(res, 400, "user_id must be a positive integer");
    }
    try {
      pool->run([&](pqxx::connection &conn) {
        pqxx::read_transaction tx(conn);
        auto rows = user_id ? obs::pqxx::exec(tx,
                                              std::string("SELECT ") + kJobColumns +
                                                  " FROM jobs WHERE user_id = $1 "
                                                  "ORDER BY id DESC LIMIT 20",
                                              user_id)
                            : obs::pqxx::exec(
                                  tx, std::string("SELECT ") + kJobColumns + " FROM jobs ORDER BY id DESC LIMIT 20");
        json list = json::array();
        for (const auto &row : rows) list.push_back(job_json(row));
        res.set_content(json{{"jobs", list}}.dump(), "application/json");
      });
    } catch (const std::exception &e) {
      database_failed(res, e);
    }
  });

  // A real query (the table's status counts); ?slow=true adds pg_sleep, so
  // the dashboards show a slow database call.
  service.route("GET", "/data", [pool](const httplib::Request &req, httplib::Response &res) {
    try {
      pool->run([&](pqxx::connection &conn) {
        pqxx::read_transaction tx(conn);
        if (req.get_param_value("slow") == "true") obs::pqxx::exec(tx, "SELECT pg_sleep(0.3 + random() * 0.4)");
        auto rows = obs::pqxx::exec(tx,
                                    "SELECT status, count(*) FROM jobs "
                                    "GROUP BY status ORDER BY status");
        json counts = json::object();
        for (const auto &row : rows) counts[row[0].c_str()] = row[1].as<long long>();
        res.set_content(json{{"jobs_by_status", counts}}.dump(), "application/json");
      });
    } catch (const std::exception &e) {
      database_failed(res, e);
    }
  });
  service.route("GET", "/error", demo::answer_error);

  service.on_start([pool, image_svc] {
    obs::health::add_readiness_check("database", [pool] {
      try {
        pool->run([](pqxx::connection &conn) {
          pqxx::read_transaction tx(conn);
          tx.exec("SELECT 1");
        });
        const bool ready = pool->schema_ready();
        return demo::readiness("database", ready, ready ? "connected" : "no schema yet", "the schema is not created yet");
      } catch (const std::exception &e) {
        return demo::readiness("database", false, "unreachable", "database unreachable: " + redact(e.what()));
      }
    });
    obs::health::add_readiness_check("image_svc", [image_svc] { return demo::check_health("image_svc", image_svc); });
  });
  return service.run();
}
