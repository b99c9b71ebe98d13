#include "export/http_transport.hpp"

#include <zlib.h>

#include <pthread.h>

#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <httplib.h>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "obs/version.hpp"

namespace obs::internal {

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && out.size() < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

namespace {

// For messages: "https://user:secret@host/..." loses "user:secret@".
std::string without_credentials(const std::string& url) {
  const auto start = url.find("://");
  const auto at = url.find('@');
  if (start == std::string::npos || at == std::string::npos || at < start) return url;
  const auto slash = url.find('/', start + 3);
  if (slash != std::string::npos && slash < at) return url;
  return url.substr(0, start + 3) + url.substr(at + 1);
}

bool is_token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Names must be HTTP tokens and values free of CR, LF and NUL, or a header
// could smuggle another one in. The message names the header, never its value.
void check_header(const std::string& protocol, const std::string& name, const std::string& value) {
  if (name.empty()) throw std::invalid_argument(protocol + " header with an empty name");
  for (unsigned char c : name)
    if (!is_token_char(c))
      throw std::invalid_argument(protocol + " header name '" + printable(name, 64) + "' is not a valid HTTP header name");
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      throw std::invalid_argument(protocol + " header '" + printable(name, 64) + "' has a value with CR, LF or NUL in it");
}

struct Url {
  std::string scheme_host_port;
  std::string path;
  std::string display;
};

// scheme://host[:port][/path]; credentials in the URL are refused (they
// would end up in messages; headers are the place for them).
Url parse_url(const std::string& protocol, const std::string& url) {
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument(protocol + " endpoint '" + printable(without_credentials(url), 120) + "' " + why);
  };
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw fail("is not a URL (expected http://host:port/path)");
  std::string scheme = url.substr(0, scheme_end);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") throw fail("must start with http:// or https://");
  const auto authority_start = scheme_end + 3;
  auto path_start = url.find('/', authority_start);
  if (path_start == std::string::npos) path_start = url.size();
  const std::string authority = url.substr(authority_start, path_start - authority_start);
  if (authority.find('@') != std::string::npos)
    throw std::invalid_argument(protocol + " endpoint has credentials in it (user:password@); send them as a header instead");
  if (authority.empty() || authority.front() == ':') throw fail("has no host");
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f) throw fail("contains spaces or control characters");
  Url u;
  u.scheme_host_port = scheme + "://" + authority;
  u.path = path_start < url.size() ? url.substr(path_start) : "/";
  // Query strings can carry API keys: messages show the path only.
  u.display = u.scheme_host_port + u.path.substr(0, u.path.find_first_of("?#"));
  return u;
}

void require_readable(const std::string& protocol, const std::string& path, const char* what) {
  if (path.empty()) return;
  std::ifstream f(path);
  if (!f) throw std::invalid_argument(protocol + " " + what + " file '" + printable(path, 200) + "' cannot be read");
}

}  // namespace

namespace {

// 15 window bits: a zlib header and trailer; + 16: gzip's instead.
std::string compress(std::string_view data, int window_bits) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("compression: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const auto written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("compression: deflate failed");
  out.resize(written);
  return out;
}

}  // namespace

std::string gzip_compress(std::string_view data) { return compress(data, 15 + 16); }
std::string deflate_compress(std::string_view data) { return compress(data, 15); }

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::uint64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && ptr == value.data() + value.size())
    return std::chrono::milliseconds(std::min<std::uint64_t>(seconds, 24 * 3600) * 1000);
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (when <= now) return std::chrono::milliseconds(0);
  return std::min(std::chrono::duration_cast<std::chrono::milliseconds>(when - now),
                  std::chrono::milliseconds(24 * 3600 * 1000));
}

// Cuts an exchange that runs past its deadline. cpp-httplib's timeouts
// bound each read and write, not the exchange: a receiver that trickles
// its answer a byte at a time would hold the exporter as long as it likes.
// One short-lived thread per exchange (an export is at most a few per
// second), so nothing of it survives a fork() or outlives the transport.
class ExchangeWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  ExchangeWatchdog(Clock::time_point deadline, const std::function<void()>& cut)
      : thread_([this, deadline, &cut] { watch(deadline, cut); }) {}
  ~ExchangeWatchdog() { finish(); }
  ExchangeWatchdog(const ExchangeWatchdog&) = delete;
  ExchangeWatchdog& operator=(const ExchangeWatchdog&) = delete;

  // Ends the watch; true if the deadline passed and the exchange was cut.
  bool finish() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return fired_;
  }

 private:
  void watch(Clock::time_point deadline, const std::function<void()>& cut) {
    pthread_setname_np(pthread_self(), "obs-http-watch");
    std::unique_lock lock(mutex_);
    // Cut again every 50 ms until the exchange ends: a cut that came just
    // before the request took its connection closed an idle one only.
    while (!wake_.wait_until(lock, deadline, [&] { return done_; })) {
      fired_ = true;
      cut();
      deadline = Clock::now() + std::chrono::milliseconds(50);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;  // last: starts once the rest is constructed
};

HttpTransport::HttpTransport(HttpTransportOptions options) : options_(std::move(options)) {
  try {
    setup();
  } catch (const std::invalid_argument& e) {
    // A URL or file name may contain a header value (an API key pasted in
    // the wrong place): the message must not repeat it.
    throw std::invalid_argument(scrub(e.what()));
  }
}

void HttpTransport::setup() {
  const auto& protocol = options_.protocol;
  const Url url = parse_url(protocol, options_.url);
  for (const auto& [name, value] : options_.headers) check_header(protocol, name, value);
  path_ = url.path;
  // A key pasted into the URL's path or host stays out of messages too.
  display_url_ = scrub(url.display);
  require_readable(protocol, options_.certificate, "certificate (CA)");
  require_readable(protocol, options_.client_certificate, "client certificate");
  require_readable(protocol, options_.client_key, "client key");
  if (options_.client_certificate.empty() != options_.client_key.empty())
    throw std::invalid_argument(protocol + " client certificate and client key must be given together");
  client_ = std::make_unique<httplib::Client>(url.scheme_host_port, options_.client_certificate, options_.client_key);
  if (!client_->is_valid())
    throw std::invalid_argument(protocol + " endpoint " + display_url_ +
                                ": the TLS client could not be set up (check the client certificate and key)");
  if (!options_.certificate.empty()) client_->set_ca_cert_path(options_.certificate);
  const auto timeout = std::max(options_.timeout, std::chrono::milliseconds(1));
  client_->set_connection_timeout(timeout);
  client_->set_read_timeout(timeout);
  client_->set_write_timeout(timeout);
  client_->set_keep_alive(true);
  // A request is one write: without this, Nagle's algorithm and the
  // receiver's delayed ACK hold each request's last segment ~40 ms.
  client_->set_tcp_nodelay(true);
  client_->set_follow_location(false);  // a redirect is an answer, and a failure
}

HttpTransport::~HttpTransport() = default;

void HttpTransport::abort() { client_->stop(); }

std::string HttpTransport::scrub(std::string text) const {
  const auto hide = [&](std::string_view secret) {
    if (secret.size() < 8) return;  // too short to be a credential, and hiding it would mangle text
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3))
      text.replace(pos, secret.size(), "***");
  };
  for (const auto& h : options_.headers) {
    hide(h.second);
    // "Bearer <token>": a receiver may echo the token alone.
    std::string_view rest = h.second;
    while (!rest.empty()) {
      const auto space = rest.find_first_of(" \t");
      hide(rest.substr(0, space));
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
  }
  return text;
}

SendResult HttpTransport::send(const std::string& body) {
  httplib::Headers headers;
  for (const auto& [name, value] : options_.headers) headers.emplace(name, value);
  headers.emplace("User-Agent", "obs-cpp/" OBS_VERSION);
  const std::string* payload = &body;
  std::string compressed;
  if (!options_.content_encoding.empty()) {
    compressed = options_.content_encoding == "gzip" ? gzip_compress(body) : deflate_compress(body);
    payload = &compressed;
    headers.emplace("Content-Encoding", options_.content_encoding);
  }
  if (!options_.content_type.empty()) headers.emplace("Content-Type", options_.content_type);

  // The answer as it arrives: its status line and headers, then at most
  // kMaxResponseBodyBytes of its body. Past that, the read is cancelled
  // (cpp-httplib then closes the connection) and the answer is judged on
  // what was kept.
  struct Answer {
    int status = 0;
    std::string content_type, retry_after, body;
    bool cut = false;
  } answer;
  httplib::Request req;
  req.method = "POST";
  req.path = path_;
  req.headers = std::move(headers);
  req.body.assign(payload->data(), payload->size());
  req.response_handler = [&](const httplib::Response& head) {
    answer.status = head.status;
    answer.content_type = head.get_header_value("Content-Type");
    answer.retry_after = head.get_header_value("Retry-After");
    return true;
  };
  req.content_receiver = [&](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
    const std::size_t room = kMaxResponseBodyBytes - answer.body.size();
    answer.body.append(data, std::min(size, room));
    if (size <= room) return true;
    answer.cut = true;
    return false;
  };
  const auto timeout = std::max(options_.timeout, std::chrono::milliseconds(1));
  const std::function<void()> cut = [this] { client_->stop(); };
  ExchangeWatchdog watchdog(std::chrono::steady_clock::now() + timeout, cut);
  auto res = client_->send(req);
  // Cut by the watchdog, unless the whole answer came in just before.
  const bool timed_out = watchdog.finish() && !res && !answer.cut;
  if (timed_out) {
    SendResult r;
    r.outcome = SendResult::Outcome::Retry;
    r.kind = "timeout";
    r.problem = "no complete answer from " + display_url_ + " within the timeout (" + std::to_string(timeout.count()) +
                " ms); the request was cut";
    return r;
  }
  if (!res && !(answer.cut && answer.status != 0)) {
    SendResult r;
    r.outcome = SendResult::Outcome::Retry;
    r.kind = "connection-" + std::to_string(static_cast<int>(res.error()));
    r.problem = "no answer from " + display_url_ + ": " + httplib::to_string(res.error());
    // A certificate that does not verify now will not verify on a retry.
    if (res.error() == httplib::Error::SSLServerVerification) r.outcome = SendResult::Outcome::Reject;
    return r;
  }
  // A whole answer: its own status and headers (cpp-httplib does not call
  // response_handler for a 204). A cut one: what the handler saw.
  if (res) return classify_response(res->status, answer.body, res->get_header_value("Content-Type"),
                                    res->get_header_value("Retry-After"));
  return classify_response(answer.status, answer.body, answer.content_type, answer.retry_after);
}

SendResult HttpTransport::classify_response(int status, const std::string& body, const std::string& content_type,
                                            const std::string& retry_after) const {
  SendResult r;
  r.kind = "http-" + std::to_string(status);
  if (status >= 200 && status < 300) {
    r.outcome = SendResult::Outcome::Delivered;
    if (options_.read_accepted) {
      auto accepted = options_.read_accepted(body, content_type);
      r.rejected = accepted.rejected;
      if (r.rejected > 0 || !accepted.message.empty())
        r.problem = display_url_ + " accepted the request but rejected " + std::to_string(r.rejected) + " items" +
                    (accepted.message.empty() ? std::string() : ": " + printable(scrub(accepted.message), 200));
    }
    return r;
  }
  const std::string detail = options_.read_error ? options_.read_error(body, content_type) : body;
  r.problem = "HTTP " + std::to_string(status) + " from " + display_url_;
  if (status >= 300 && status < 400) r.problem += " (a redirect: not followed; point the endpoint at the final URL)";
  // Scrubbed before cutting and escaping, which could split or disguise a secret.
  if (!detail.empty()) r.problem += ": " + printable(scrub(detail), 200);
  if (options_.retryable && options_.retryable(status)) {
    r.outcome = SendResult::Outcome::Retry;
    r.retry_after = parse_retry_after(retry_after, std::chrono::system_clock::now());
  } else {
    r.outcome = SendResult::Outcome::Reject;
  }
  return r;
}

}  // namespace obs::internal
