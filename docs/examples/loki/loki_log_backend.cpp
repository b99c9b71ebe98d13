// Example Loki log backend; the policy is described in loki_log_backend.hpp.
#include "loki_log_backend.hpp"

#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "obs/log_format.hpp"

namespace example {
namespace {

constexpr std::string_view kDefaultPath = "/loki/api/v1/push";

bool valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// A server's error body, made safe to put in a one-line error message.
std::string snippet(std::string_view body) {
  std::string out;
  for (unsigned char c : body.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > 200) out += "...";
  return out;
}

}  // namespace

LokiLogBackend::LokiLogBackend(LokiOptions options) : options_(std::move(options)), backoff_(options_.retry_backoff) {
  // httplib::Client takes scheme://host[:port]; the path goes with each request.
  const std::string& url = options_.url;
  const auto scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    throw std::invalid_argument("loki: url must start with http:// or https://: '" + url + "'");
  const auto path_start = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, path_start);
  path_ = path_start == std::string::npos ? std::string(kDefaultPath) : url.substr(path_start);
  if (origin.size() == scheme_end + 3) throw std::invalid_argument("loki: url has no host: '" + url + "'");
  endpoint_ = origin + path_;

  for (const auto& [key, value] : options_.labels) {
    if (!valid_label_name(key) || key == "service" || key == "environment" || key == "severity")
      throw std::invalid_argument("loki: unusable label name '" + key + "'");
  }
  if (options_.max_batch == 0 || options_.max_push_records == 0 || options_.max_buffered < options_.max_batch)
    throw std::invalid_argument("loki: need max_batch >= 1, max_push_records >= 1 and max_buffered >= max_batch");

  client_ = std::make_unique<httplib::Client>(origin);
  if (!client_->is_valid()) throw std::invalid_argument("loki: cannot create an HTTP client for '" + url + "'");
  client_->set_connection_timeout(options_.connect_timeout);
  client_->set_read_timeout(options_.io_timeout);
  client_->set_write_timeout(options_.io_timeout);
  if (!options_.username.empty()) client_->set_basic_auth(options_.username, options_.password);
}

LokiLogBackend::~LokiLogBackend() = default;

void LokiLogBackend::write(const obs::LogBatch& batch) {
  if (stopped_) return;
  // The resource is the same for every batch of one Sdk; share it between entries.
  if (!resource_ || resource_->service != batch.resource.service ||
      resource_->environment != batch.resource.environment)
    resource_ =
        std::make_shared<const ResourceLabels>(ResourceLabels{batch.resource.service, batch.resource.environment});

  // Records beyond max_buffered would be dropped at once: skip rendering them.
  const std::size_t n = batch.records.size();
  const std::size_t skip = n > options_.max_buffered ? n - options_.max_buffered : 0;
  for (std::size_t i = skip; i < n; ++i) {
    const obs::LogRecord& r = batch.records[i];
    Entry e;
    e.ns = std::chrono::duration_cast<std::chrono::nanoseconds>(r.time.time_since_epoch()).count();
    e.level = r.level;
    e.resource = resource_;
    obs::append_log_json(e.line, r, batch.resource);
    buffer_.push_back(std::move(e));
  }
  const std::size_t dropped = skip + enforce_bound();
  dropped_.fetch_add(dropped, std::memory_order_relaxed);
  update_buffered();

  std::string error;
  if (buffer_.size() >= options_.max_batch && std::chrono::steady_clock::now() >= retry_at_) error = push_buffered();
  if (dropped > 0) {
    if (!error.empty()) error += "; ";
    error += "buffer for " + endpoint_ + " full (max_buffered=" + std::to_string(options_.max_buffered) +
             "), dropped the " + std::to_string(dropped) + " oldest records";
  }
  if (!error.empty()) throw std::runtime_error(error);
}

void LokiLogBackend::flush() {
  if (stopped_) return;
  if (std::string error = push_buffered(); !error.empty()) throw std::runtime_error(error);
}

void LokiLogBackend::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  // The SDK calls flush() right before shutdown(); if that just failed, the
  // back-off is running and trying again would only delay the host's exit.
  std::string error;
  if (!buffer_.empty() && std::chrono::steady_clock::now() >= retry_at_) error = push_buffered();
  if (!buffer_.empty()) {
    const std::size_t left = buffer_.size();
    buffer_.clear();
    dropped_.fetch_add(left, std::memory_order_relaxed);
    update_buffered();
    const std::string why =
        error.empty() ? " (the last push to " + endpoint_ + " failed; its retry back-off was still running)" : "";
    error += (error.empty() ? "" : "; ") + std::string("discarded ") + std::to_string(left) +
             " undelivered records at shutdown" + why;
  }
  if (!error.empty()) throw std::runtime_error(error);
}

LokiStats LokiLogBackend::stats() const {
  return LokiStats{pushed_.load(std::memory_order_relaxed), requests_.load(std::memory_order_relaxed),
                   failed_requests_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
                   buffered_.load(std::memory_order_relaxed)};
}

// Drops the oldest records beyond max_buffered; returns how many.
std::size_t LokiLogBackend::enforce_bound() {
  const std::size_t excess = buffer_.size() > options_.max_buffered ? buffer_.size() - options_.max_buffered : 0;
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(excess));
  return excess;
}

// Sends the buffer, oldest first, in requests of at most max_push_records.
// Stops at the first failure. Returns "" or a one-line description of it.
std::string LokiLogBackend::push_buffered() {
  while (!buffer_.empty()) {
    const std::size_t count = std::min(buffer_.size(), options_.max_push_records);
    const std::string body = encode(count);
    httplib::Headers headers;
    if (!options_.tenant.empty()) headers.emplace("X-Scope-OrgID", options_.tenant);
    requests_.fetch_add(1, std::memory_order_relaxed);
    const httplib::Result res = client_->Post(path_, headers, body, "application/json");

    if (res && res->status >= 200 && res->status < 300) {
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(count));
      pushed_.fetch_add(count, std::memory_order_relaxed);
      update_buffered();
      backoff_ = options_.retry_backoff;
      retry_at_ = {};
      continue;
    }

    failed_requests_.fetch_add(1, std::memory_order_relaxed);
    std::string why;
    bool retryable = true;
    if (!res) {
      why = "no response (" + httplib::to_string(res.error()) + " error)";
    } else {
      why = "HTTP " + std::to_string(res->status);
      if (!res->body.empty()) why += " \"" + snippet(res->body) + "\"";
      retryable = res->status == 429 || res->status >= 500;
    }
    if (!retryable) {
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(count));
      dropped_.fetch_add(count, std::memory_order_relaxed);
      update_buffered();
    }
    retry_at_ = std::chrono::steady_clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.max_retry_backoff);
    return "push to " + endpoint_ + " failed: " + why + "; " +
           (retryable ? std::to_string(buffer_.size()) + " records kept for retry"
                      : "dropped " + std::to_string(count) + " records Loki will not accept, " +
                            std::to_string(buffer_.size()) + " still buffered");
  }
  return {};
}

// The JSON push body for the `count` oldest buffered records: one stream per
// label set, each stream's values sorted by time (stable: equal timestamps
// keep their order of arrival).
std::string LokiLogBackend::encode(std::size_t count) const {
  struct Stream {
    const ResourceLabels* resource;
    obs::log::Level level;
    std::vector<const Entry*> entries;
  };
  std::vector<Stream> streams;
  for (std::size_t i = 0; i < count; ++i) {
    const Entry& e = buffer_[i];
    auto it = std::find_if(streams.begin(), streams.end(), [&](const Stream& s) {
      return s.level == e.level && s.resource->service == e.resource->service &&
             s.resource->environment == e.resource->environment;
    });
    if (it == streams.end()) it = streams.insert(streams.end(), Stream{e.resource.get(), e.level, {}});
    it->entries.push_back(&e);
  }

  nlohmann::json out_streams = nlohmann::json::array();
  for (Stream& s : streams) {
    std::stable_sort(s.entries.begin(), s.entries.end(), [](const Entry* a, const Entry* b) { return a->ns < b->ns; });
    nlohmann::json labels = nlohmann::json::object();
    labels["service"] = s.resource->service;
    if (!s.resource->environment.empty()) labels["environment"] = s.resource->environment;
    labels["severity"] = obs::log::to_string(s.level);
    for (const auto& [key, value] : options_.labels) labels[key] = value;
    nlohmann::json values = nlohmann::json::array();
    for (const Entry* e : s.entries) values.push_back(nlohmann::json::array({std::to_string(e->ns), e->line}));
    out_streams.push_back({{"stream", std::move(labels)}, {"values", std::move(values)}});
  }
  const nlohmann::json body = {{"streams", std::move(out_streams)}};
  // Lines are valid UTF-8 already (append_log_json replaces invalid bytes);
  // "replace" covers label values such as a service name from the environment.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace example
