// obs::http::Server: one thread (the reader) holds every connection that
// is idle or still arriving, on epoll; a fixed pool of workers runs
// cpp-httplib's request processing only on requests whose head (and small
// body) has fully arrived. The per-connection buffer outlives each request,
// so pipelined requests are answered in order.
#include "obs/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <malloc.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/diagnostics.hpp"
#include "obs/metrics_registry.hpp"
#include "text/ascii.hpp"

namespace obs::http {
namespace {

using Clock = std::chrono::steady_clock;

// How long a refused connection is read and discarded after its answer,
// so that closing it with unread input (which sends a reset) does not
// destroy the answer before the client reads it.
constexpr auto kDrainTime = std::chrono::seconds(1);
constexpr std::size_t kReadChunk = 16 * 1024;
// glibc keeps memory freed by other threads' arenas (and, once a large
// block was freed, even large ones) instead of returning it: after a burst
// of big bodies or many slow clients a process would stay at its peak.
// Past this much freed since the last time, the reader returns free pages
// to the system, at most once per interval.
constexpr std::size_t kTrimAfterBytes = 1 << 20;
constexpr auto kTrimInterval = std::chrono::seconds(1);
// Pipelined requests one worker answers before the connection goes back
// in line: a client with a deep pipeline (read slowly) cannot keep a
// worker from everyone else.
constexpr int kRequestsPerTurn = 8;
// How long a connection accepted just before a shutdown may take to send
// its first request.
constexpr auto kNewConnectionGrace = std::chrono::milliseconds(500);

struct Connection {
  int fd = -1;
  std::string buffer;       // received bytes; [start, size) not yet consumed
  std::size_t start = 0;
  std::size_t scanned = 0;  // from start: no end of head before this
  bool arriving = false;    // a request's first byte is here
  bool draining = false;    // refused: discarding input until closed
  Clock::time_point since;  // arrival of that first byte, or since idle/draining
  Clock::time_point last_byte;
  std::size_t served = 0;
  // Of the request at `start`, once its head has arrived (evaluate()).
  enum class Framing { none, length, chunked, unknown } framing = Framing::none;
  std::size_t head_bytes = 0;
  std::size_t content_length = 0;

  std::string_view pending() const { return std::string_view(buffer).substr(start); }
  void compact() {
    if (start == buffer.size()) {
      std::string().swap(buffer);  // an idle connection holds no buffer
    } else if (start > 0) {
      buffer.erase(0, start);
    }
    start = 0;
    scanned = 0;
  }
};

enum class Readiness { incomplete, ready, header_too_large, too_many_headers, bad_request };

// Whether the pending bytes hold a whole request head within the limits,
// and the body when it is small enough to wait for. Notes the request's
// framing in `c`.
Readiness evaluate(Connection& c, const ServerLimits& limits) {
  const std::string_view data = c.pending();
  const std::size_t from = c.scanned >= 3 ? c.scanned - 3 : 0;
  const std::size_t end = data.find("\r\n\r\n", from);
  if (end == std::string_view::npos) {
    c.scanned = data.size();
    return data.size() > limits.max_header_bytes ? Readiness::header_too_large : Readiness::incomplete;
  }
  const std::size_t head_bytes = end + 4;
  if (head_bytes > limits.max_header_bytes) return Readiness::header_too_large;
  // Each field line ends in CRLF before the blank line; so does the request line.
  std::size_t fields = 0;
  std::optional<std::size_t> content_length;
  bool length_unusable = false;  // not a number, too large, or two different ones
  bool transfer_encoding = false, chunked = false, expect = false;
  std::size_t line_start = data.find("\r\n");
  while (line_start != std::string_view::npos && line_start < end) {
    line_start += 2;
    std::size_t line_end = data.find("\r\n", line_start);
    if (line_end == std::string_view::npos || line_end > end) line_end = end;
    ++fields;
    const std::string_view line = data.substr(line_start, line_end - line_start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      const std::string_view name = line.substr(0, colon);
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (text::equals_ignoring_case(name, "content-length")) {
        const bool digits = !value.empty() && value.size() <= 15 &&
                            value.find_first_not_of("0123456789") == std::string_view::npos;
        if (!digits) {
          length_unusable = true;
        } else {
          const auto n = static_cast<std::size_t>(std::stoull(std::string(value)));
          if (content_length && *content_length != n) return Readiness::bad_request;  // which one would the body follow?
          content_length = n;
        }
      } else if (text::equals_ignoring_case(name, "transfer-encoding")) {
        transfer_encoding = true;
        chunked = text::equals_ignoring_case(value, "chunked");  // as cpp-httplib: anything else is read to the end
      } else if (text::equals_ignoring_case(name, "expect")) {
        expect = text::equals_ignoring_case(value, "100-continue");  // the client waits for our 100
      }
    }
    line_start = line_end == end ? std::string_view::npos : line_end;
  }
  if (fields > limits.max_header_fields) return Readiness::too_many_headers;
  c.head_bytes = head_bytes;
  c.content_length = content_length.value_or(0);
  using Framing = Connection::Framing;
  if (transfer_encoding) {
    // With a Content-Length too, the two disagree on where the body ends:
    // the connection is not reused after it (no request smuggling).
    c.framing = chunked && !content_length ? Framing::chunked : Framing::unknown;
  } else if (length_unusable) {
    c.framing = Framing::unknown;  // cpp-httplib answers it
  } else {
    c.framing = content_length ? Framing::length : Framing::none;  // none: no body (RFC 9112, 6.3)
  }
  if (c.framing != Framing::length || expect || c.content_length > limits.buffered_body_bytes) return Readiness::ready;
  return data.size() >= head_bytes + c.content_length ? Readiness::ready : Readiness::incomplete;
}

bool wait_for(int fd, short events, Clock::duration timeout) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  pollfd p{fd, events, 0};
  for (;;) {
    const int r = ::poll(&p, 1, static_cast<int>(std::clamp<long long>(ms, 0, 1 << 30)));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

std::string address_of(const sockaddr_storage& addr, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    port = ntohs(a.sin6_port);
  } else {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    port = ntohs(a.sin_port);
  }
  return text;
}

// `data` with its Keep-Alive field replaced by "Connection: close", when
// it is a whole response head with one; otherwise empty.
std::string closing_head(std::string_view data) {
  if (data.substr(0, 5) != "HTTP/") return {};
  const std::size_t end = data.find("\r\n\r\n");
  const std::size_t field = data.find("\r\nKeep-Alive: ");
  if (end == std::string_view::npos || field == std::string_view::npos || field > end) return {};
  const std::size_t line_end = data.find("\r\n", field + 2);
  std::string out(data.substr(0, field));
  out += "\r\nConnection: close";
  out += data.substr(line_end);
  return out;
}

std::string canned_answer(int status, std::string_view reason, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
                    "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

// The settings cpp-httplib's setters hold, as the reader and the workers
// use them: copied when listening starts, so that no thread reads the
// server's fields while the application may still be setting them.
struct Settings {
  Clock::duration keep_alive{std::chrono::seconds(5)};
  Clock::duration read_timeout{std::chrono::seconds(5)};
  Clock::duration write_timeout{std::chrono::seconds(5)};
  std::size_t max_requests = 1000;
  std::size_t payload_max = std::numeric_limits<std::size_t>::max();
};

// Follows a chunked body as cpp-httplib reads it: how many bytes of data
// it carries (the limit is on those, not on the framing) and whether it
// has ended (then the connection can carry another request).
class ChunkCounter {
 public:
  void feed(std::string_view bytes) {
    for (std::size_t i = 0; i < bytes.size() && state_ != State::done;) {
      const char ch = bytes[i];
      switch (state_) {
        case State::size:
          if (std::isxdigit(static_cast<unsigned char>(ch))) {
            size_ = size_ * 16 + static_cast<std::uint64_t>(std::isdigit(static_cast<unsigned char>(ch))
                                                                ? ch - '0'
                                                                : (std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10));
            if (size_ > (std::uint64_t{1} << 48)) size_ = std::uint64_t{1} << 48;  // absurd: over any limit
          } else {
            state_ = State::size_line;  // extensions, then CRLF
            continue;
          }
          ++i;
          break;
        case State::size_line:
          if (ch == '\n') {
            state_ = size_ == 0 ? State::trailer_line_start : State::data;
            remaining_ = size_;
            size_ = 0;
          }
          ++i;
          break;
        case State::data: {
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size() - i));
          data_ += n;
          remaining_ -= n;
          i += n;
          if (remaining_ == 0) state_ = State::data_end;
          break;
        }
        case State::data_end:
          if (ch == '\n') state_ = State::size;
          ++i;
          break;
        case State::trailer_line_start:
          state_ = ch == '\r' ? State::final_lf : ch == '\n' ? State::done : State::trailer_line;
          ++i;
          break;
        case State::trailer_line:
          if (ch == '\n') state_ = State::trailer_line_start;
          ++i;
          break;
        case State::final_lf:
          state_ = ch == '\n' ? State::done : State::trailer_line;
          ++i;
          break;
        case State::done:
          break;
      }
    }
  }
  std::uint64_t data() const { return data_; }
  bool done() const { return state_ == State::done; }

 private:
  enum class State { size, size_line, data, data_end, trailer_line_start, trailer_line, final_lf, done };
  State state_ = State::size;
  std::uint64_t size_ = 0, remaining_ = 0, data_ = 0;
};

// One worker's view of a connection while cpp-httplib processes a request
// on it: pending bytes first, then the socket, within the request's
// deadline. It never hands cpp-httplib bytes past the request's end when
// the framing says where that is, so pipelined requests stay in the
// connection's buffer.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection& c, Clock::time_point deadline, const Settings& settings,
                   const std::atomic<bool>& stopping)
      : c_(c), deadline_(deadline), settings_(settings), stopping_(stopping) {}

  bool is_readable() const override {
    return c_.start < c_.buffer.size() ||
           wait_for(c_.fd, POLLIN, std::min(settings_.read_timeout, until(deadline_)));
  }
  bool is_writable() const override { return !cut_ && wait_for(c_.fd, POLLOUT, settings_.write_timeout); }

  ssize_t read(char* ptr, size_t size) override {
    if (cut_) return -1;
    size = std::min(size, readable_now());
    if (size == 0) return 0;  // the request's end: no body, or all of it read
    if (c_.start == c_.buffer.size() && !fill()) return cut_ ? -1 : 0;
    const std::size_t n = std::min(size, c_.buffer.size() - c_.start);
    std::memcpy(ptr, c_.buffer.data() + c_.start, n);
    if (c_.framing == Connection::Framing::chunked && consumed_ + n > c_.head_bytes) {
      const std::size_t skip = consumed_ >= c_.head_bytes ? 0 : c_.head_bytes - consumed_;
      chunks_.feed(std::string_view(ptr + skip, n - skip));
    }
    c_.start += n;
    consumed_ += n;
    if (over_payload_limit()) return -1;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (cut_) return -1;
    const std::string_view data(ptr, size);
    if (!head_written_ && data.substr(0, 10) != "HTTP/1.1 1") {  // 100 Continue is not the answer's head
      head_written_ = true;
      note_response_head(data);
      // The connection closes after this answer (a shutdown began while the
      // handler ran, or the request's body cannot be stepped over): the
      // head says so instead of offering keep-alive.
      if (stopping_ || !reusable()) {
        closes_ = true;
        const std::string head = closing_head(data);
        if (!head.empty()) return send_all(head.data(), head.size()) < 0 ? -1 : static_cast<ssize_t>(size);
      }
    }
    return send_all(ptr, size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    port = 0;
    if (::getpeername(c_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) ip = address_of(addr, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    port = 0;
    if (::getsockname(c_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) ip = address_of(addr, port);
  }
  socket_t socket() const override { return c_.fd; }

  bool cut() const { return cut_; }
  // The answer ends the connection: it says so, or it refuses a request
  // whose end cpp-httplib did not find.
  bool closes() const { return closes_; }
  bool timed_out() const { return timed_out_; }
  bool payload_too_large() const { return payload_too_large_; }
  std::size_t received() const { return received_; }

  // After cpp-httplib is done with the request: skips what is left of its
  // body when that is already buffered. False when the connection cannot
  // be reused (the rest of the body is unread, or where it ends is unknown).
  bool finish_request() {
    if (!reusable()) return false;
    const std::size_t end = request_end();
    if (consumed_ < end) c_.start += end - consumed_;  // the unread rest of a body that has arrived
    return true;
  }

 private:
  static Clock::duration until(Clock::time_point t) { return std::max(Clock::duration::zero(), t - Clock::now()); }

  // Where the request ends, for framings that say so.
  std::size_t request_end() const {
    return c_.head_bytes + (c_.framing == Connection::Framing::length ? c_.content_length : 0);
  }

  // Whether the next request can be found after this one: the body was
  // read to its end, or what is left of it has already arrived.
  bool reusable() const {
    using Framing = Connection::Framing;
    if (c_.framing == Framing::unknown) return false;
    if (c_.framing == Framing::chunked) return chunks_.done();
    const std::size_t end = request_end();
    return consumed_ >= end || c_.buffer.size() - c_.start >= end - consumed_;
  }

  // How many bytes cpp-httplib may read now, by the request's framing.
  std::size_t readable_now() const {
    using Framing = Connection::Framing;
    if (c_.framing == Framing::none) return c_.head_bytes > consumed_ ? c_.head_bytes - consumed_ : 0;
    if (c_.framing == Framing::length) {
      const std::size_t end = c_.head_bytes + c_.content_length;
      return end > consumed_ ? end - consumed_ : 0;
    }
    return std::numeric_limits<std::size_t>::max();
  }

  // cpp-httplib checks a declared Content-Length against its limit, not a
  // chunked body (or one read to the end of input): those are bounded
  // here, with room for the chunks' framing.
  bool over_payload_limit() {
    using Framing = Connection::Framing;
    const std::size_t limit = settings_.payload_max;
    if (limit == std::numeric_limits<std::size_t>::max()) return false;
    if (c_.framing == Framing::chunked) {
      if (chunks_.data() <= limit) return false;
    } else if (c_.framing == Framing::unknown) {
      const std::size_t body = consumed_ > c_.head_bytes ? consumed_ - c_.head_bytes : 0;
      if (body <= limit) return false;
    } else {
      return false;
    }
    payload_too_large_ = true;
    if (!head_written_) {
      const std::string answer = canned_answer(413, "Payload Too Large", "payload too large\n");
      head_written_ = true;
      send_all(answer.data(), answer.size());
    }
    cut_ = true;
    return true;
  }

  ssize_t send_all(const char* ptr, size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::send(c_.fd, ptr + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
                 wait_for(c_.fd, POLLOUT, settings_.write_timeout)) {
        continue;
      } else {
        cut_ = true;
        return -1;
      }
    }
    return static_cast<ssize_t>(size);
  }

  void note_response_head(std::string_view data) {
    if (data.substr(0, 9) == "HTTP/1.1 " || data.substr(0, 9) == "HTTP/1.0 ") {
      const std::string_view status = data.substr(9, 3);
      if (status == "400" || status == "413" || status == "414" || status == "431") closes_ = true;
    }
    const std::size_t end = data.find("\r\n\r\n");
    const std::string_view head = data.substr(0, end);
    for (std::size_t at = head.find("\r\n"); at != std::string_view::npos; at = head.find("\r\n", at + 2)) {
      const std::string_view line = head.substr(at + 2, head.find("\r\n", at + 2) - (at + 2));
      if (line.size() >= 11 && text::equals_ignoring_case(line.substr(0, 11), "connection:") &&
          line.find("close") != std::string_view::npos)
        closes_ = true;
    }
  }

  // Reads what the socket has (at least one byte) into the emptied buffer.
  // False at the end of input (cut_ unset) or on failure (cut_ set).
  bool fill() {
    c_.buffer.clear();
    c_.start = 0;
    for (;;) {
      const auto left = until(deadline_);
      if (left <= Clock::duration::zero()) {
        timed_out_ = cut_ = true;
        return false;
      }
      if (!wait_for(c_.fd, POLLIN, std::min(settings_.read_timeout, left))) {
        timed_out_ = true;  // silent for the read timeout, or past the deadline
        cut_ = true;
        return false;
      }
      c_.buffer.resize(kReadChunk);
      const ssize_t n = ::recv(c_.fd, c_.buffer.data(), kReadChunk, MSG_DONTWAIT);
      if (n > 0) {
        c_.buffer.resize(static_cast<std::size_t>(n));
        received_ += static_cast<std::size_t>(n);
        return true;
      }
      c_.buffer.clear();
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n < 0) cut_ = true;
      return false;  // n == 0: the client finished sending
    }
  }

  Connection& c_;
  Clock::time_point deadline_;
  const Settings& settings_;
  const std::atomic<bool>& stopping_;  // the server's
  std::size_t consumed_ = 0;  // handed to cpp-httplib, from the request's first byte
  std::size_t received_ = 0;  // from the socket, beyond what was buffered before
  bool head_written_ = false;
  bool closes_ = false;
  bool cut_ = false;
  bool timed_out_ = false;
  bool payload_too_large_ = false;
  ChunkCounter chunks_;
};

const CounterFamily& refused_family() {
  // Never destroyed: a server left running at exit may still count.
  static const auto* family = new CounterFamily(MetricsRegistry::global().counter(
      "obs_http_server_refused", {"reason"},
      {.description = "Requests and connections obs::http::Server refused (408, 431, 503) or cut at shutdown",
       .series_limit = 16}));
  return *family;
}


}  // namespace

struct Server::Engine {
  Engine(Server& server, ServerLimits limits) : server_(server), limits_(limits) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || wake_fd_ < 0) {
      const int err = errno;
      close_fds();
      throw std::runtime_error(std::string("obs::http::Server cannot create its event loop: ") + std::strerror(err));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    for (const char* reason :
         {"header_too_large", "too_many_headers", "request_timeout", "too_many_connections", "cut_at_shutdown",
          "payload_too_large"})
      refused_family().labels(reason).inc(0);
    reader_ = std::thread([this] { read_loop(); });
    for (unsigned i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { work_loop(); });
  }

  ~Engine() {
    {
      std::lock_guard lock(mu_);
      exiting_ = true;
    }
    work_ready_.notify_all();
    wake();
    for (auto& w : workers_) w.join();
    reader_.join();
    for (auto& c : work_) ::close(c->fd);
    for (auto& c : handed_) ::close(c->fd);
    close_fds();
  }

  void close_fds() {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
  }

  void count(std::atomic<std::uint64_t>& counter, const char* reason) {
    counter.fetch_add(1, std::memory_order_relaxed);
    refused_family().labels(reason).inc();
  }

  // On cpp-httplib's accepting thread.
  void adopt(int fd) {
    {
      std::lock_guard lock(mu_);
      if (!settings_taken_) {
        // Listening has started, so the application has made its settings
        // (cpp-httplib's rule): from now on this copy is what counts.
        settings_taken_ = true;
        settings_.keep_alive = std::chrono::seconds(server_.keep_alive_timeout_sec_);
        settings_.read_timeout =
            std::chrono::seconds(server_.read_timeout_sec_) + std::chrono::microseconds(server_.read_timeout_usec_);
        settings_.write_timeout =
            std::chrono::seconds(server_.write_timeout_sec_) + std::chrono::microseconds(server_.write_timeout_usec_);
        settings_.max_requests = server_.keep_alive_max_count_;
        settings_.payload_max = server_.payload_max_length_;
      }
      if (!exiting_ && !hard_stop_ && open_ < limits_.max_connections) {
        ++open_;
        auto c = std::make_unique<Connection>();
        c->fd = fd;
        c->since = Clock::now();
        handed_.push_back(std::move(c));
        wake();
        return;
      }
    }
    count(too_many_connections_, "too_many_connections");
    const std::string answer = canned_answer(503, "Service Unavailable", "too many connections\n");
    [[maybe_unused]] const auto n = ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }

  // A connection leaves the count of open ones (closed, or only draining).
  void release_one() {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    settled_.notify_all();
  }

  // ---- the reader thread ----

  void read_loop() {
    std::unordered_map<int, std::unique_ptr<Connection>> held;
    std::vector<epoll_event> events(64);
    for (;;) {
      std::vector<std::unique_ptr<Connection>> arrived;
      bool stopping;
      bool hard_stop;
      Settings settings;
      {
        std::lock_guard lock(mu_);
        if (exiting_) break;  // the destructor closes what is still handed over
        arrived.swap(handed_);
        stopping = stopping_;
        hard_stop = hard_stop_;
        settings = settings_;
      }
      reader_settings_ = settings;
      for (auto& c : arrived) {
        const int fd = c->fd;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
          ::close(fd);
          release_one();
          continue;
        }
        held.emplace(fd, std::move(c));
        // A connection handed back with a partial next request already read.
        Connection& back = *held[fd];
        if (!back.draining && !back.pending().empty()) on_data(held, back);
      }
      expire(held, stopping, hard_stop, settings);
      return_freed_memory();
      const int timeout = next_timeout_ms(held, settings, stopping);
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        if (fd == wake_fd_) {
          std::uint64_t v;
          [[maybe_unused]] const auto r = ::read(wake_fd_, &v, sizeof v);
          continue;
        }
        const auto it = held.find(fd);
        if (it != held.end()) on_readable(held, *it->second);
      }
    }
    for (auto& [fd, c] : held) {
      ::close(fd);
      if (!c->draining) release_one();
    }
  }

  void forget(std::unordered_map<int, std::unique_ptr<Connection>>& held, Connection& c) {
    released_bytes_.fetch_add(c.buffer.capacity(), std::memory_order_relaxed);
    const int fd = c.fd;
    const bool counted = !c.draining;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    held.erase(fd);
    if (counted) release_one();
  }

  // Answers `status` and keeps reading (and discarding) for a while, so
  // the answer is not lost to a reset when the socket closes.
  void refuse(Connection& c, int status, std::string_view reason, std::string_view body) {
    const std::string answer = canned_answer(status, reason, body);
    [[maybe_unused]] const auto n = ::send(c.fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(c.fd, SHUT_WR);
    released_bytes_.fetch_add(c.buffer.capacity(), std::memory_order_relaxed);
    std::string().swap(c.buffer);
    c.start = 0;
    c.draining = true;
    c.since = Clock::now();
    release_one();
  }

  void on_readable(std::unordered_map<int, std::unique_ptr<Connection>>& held, Connection& c) {
    if (c.draining) {
      // A bounded amount per wake-up: a client flooding this connection
      // must not keep the reader from every other one.
      char sink[16 * 1024];
      for (int i = 0; i < 8; ++i) {
        const ssize_t n = ::recv(c.fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        forget(held, c);  // end of input or error
        return;
      }
      return;
    }
    // Never more than a whole head and a buffered body (plus one read).
    // Read through a fixed buffer so that a connection's own holds only
    // what arrived: a slow client's few bytes, not a read's worth each.
    const std::size_t cap = limits_.max_header_bytes + limits_.buffered_body_bytes + 4;
    bool got = false;
    bool eof = false;
    char chunk[kReadChunk];
    while (c.buffer.size() < cap + c.start) {
      const std::size_t want = std::min(sizeof chunk, cap + c.start - c.buffer.size());
      const ssize_t n = ::recv(c.fd, chunk, want, MSG_DONTWAIT);
      if (n > 0) {
        c.buffer.append(chunk, static_cast<std::size_t>(n));
        got = true;
        c.last_byte = Clock::now();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      eof = true;  // or an error: either way nothing more will arrive
      break;
    }
    const Fate fate = got ? on_data(held, c) : Fate::held;
    // A client may send its request and then shut down its side: that
    // request is still answered. Anything less than a request is dropped.
    if (eof && fate != Fate::dispatched) forget(held, c);
  }

  enum class Fate { held, dispatched, refused };

  // After `c` has gained pending bytes. Once dispatched, `c` belongs to a
  // worker and must not be touched.
  Fate on_data(std::unordered_map<int, std::unique_ptr<Connection>>& held, Connection& c) {
    if (!c.arriving) {
      c.arriving = true;
      c.since = c.last_byte = Clock::now();
    }
    switch (evaluate(c, limits_)) {
      case Readiness::incomplete:
        return Fate::held;
      case Readiness::header_too_large:
        count(header_too_large_, "header_too_large");
        refuse(c, 431, "Request Header Fields Too Large", "request header fields too large\n");
        return Fate::refused;
      case Readiness::too_many_headers:
        count(too_many_headers_, "too_many_headers");
        refuse(c, 431, "Request Header Fields Too Large", "too many request header fields\n");
        return Fate::refused;
      case Readiness::bad_request:
        refuse(c, 400, "Bad Request", "conflicting Content-Length fields\n");
        return Fate::refused;
      case Readiness::ready:
        break;
    }
    if (c.framing == Connection::Framing::length && c.content_length > reader_settings_.payload_max) {
      // cpp-httplib would read (and drop) the whole declared body before
      // answering, holding a worker while a client that sends nothing waits.
      count(payload_too_large_, "payload_too_large");
      refuse(c, 413, "Payload Too Large", "payload too large\n");
      return Fate::refused;
    }
    const int fd = c.fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    auto node = held.extract(fd);
    {
      std::lock_guard lock(mu_);
      work_.push_back(std::move(node.mapped()));
    }
    work_ready_.notify_one();
    return Fate::dispatched;
  }

  void expire(std::unordered_map<int, std::unique_ptr<Connection>>& held, bool stopping, bool hard_stop,
              const Settings& settings) {
    const auto now = Clock::now();
    if (stopping && stop_seen_ == Clock::time_point{}) stop_seen_ = now;
    std::vector<Connection*> due;
    for (auto& [fd, c] : held) {
      if (hard_stop || (c->draining && now >= c->since + kDrainTime) ||
          (!c->draining && !c->arriving && (now >= c->since + settings.keep_alive || closable_when_stopping(*c, now))) ||
          (c->arriving && now >= arrival_due(*c, settings)))
        due.push_back(c.get());
    }
    for (Connection* c : due) {
      if (hard_stop && !c->draining) count(cut_at_shutdown_, "cut_at_shutdown");
      if (!hard_stop && !c->draining && c->arriving) {
        count(request_timeout_, "request_timeout");
        refuse(*c, 408, "Request Timeout", "request not received in time\n");
        continue;
      }
      forget(held, *c);
    }
  }

  // Stopping: an idle connection closes now, unless its next request is
  // already in the socket (the epoll loop reads it next) or it was just
  // accepted and has not had the time to send one.
  bool closable_when_stopping(const Connection& c, Clock::time_point now) const {
    if (stop_seen_ == Clock::time_point{}) return false;
    char byte;
    if (::recv(c.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0) return false;
    return c.served > 0 || now >= stop_seen_ + kNewConnectionGrace;
  }

  void return_freed_memory() {
#ifdef __GLIBC__
    const auto now = Clock::now();
    if (released_bytes_.load(std::memory_order_relaxed) < kTrimAfterBytes || now < last_trim_ + kTrimInterval) return;
    released_bytes_.store(0, std::memory_order_relaxed);
    last_trim_ = now;
    ::malloc_trim(0);
#endif
  }

  // A request still arriving ends at its deadline, or sooner when the
  // client has been silent for the read timeout.
  Clock::time_point arrival_due(const Connection& c, const Settings& settings) const {
    return std::min(c.since + limits_.request_deadline, c.last_byte + settings.read_timeout);
  }

  int next_timeout_ms(const std::unordered_map<int, std::unique_ptr<Connection>>& held, const Settings& settings,
                      bool stopping) const {
    const auto now = Clock::now();
    // While stopping, idle connections are looked at again every 50 ms.
    auto next = now + (stopping ? std::chrono::milliseconds(50) : std::chrono::milliseconds(1000));
    for (const auto& [fd, c] : held) {
      const auto due = c->draining   ? c->since + kDrainTime
                       : c->arriving ? arrival_due(*c, settings)
                                     : c->since + settings.keep_alive;
      next = std::min(next, due);
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
    return static_cast<int>(std::max<long long>(ms, 0));
  }

  // ---- workers ----

  void work_loop() {
    Settings settings;
    for (;;) {
      std::unique_ptr<Connection> c;
      {
        std::unique_lock lock(mu_);
        work_ready_.wait(lock, [&] { return exiting_ || !work_.empty(); });
        if (work_.empty()) return;  // exiting
        c = std::move(work_.front());
        work_.pop_front();
        if (hard_stop_) {
          lock.unlock();
          count(cut_at_shutdown_, "cut_at_shutdown");
          ::close(c->fd);
          release_one();
          continue;
        }
        busy_.insert(c->fd);
        settings = settings_;
      }
      const Outcome outcome = serve(*c, settings);
      if (outcome == Outcome::finish) {
        // Closed after its answer: input the client may still be sending
        // must not turn the close into a reset that destroys the answer, so
        // the reader drains it a while (as for a refusal).
        ::shutdown(c->fd, SHUT_WR);
        std::string().swap(c->buffer);
        c->start = 0;
        c->draining = true;
        c->since = Clock::now();
      }
      {
        std::lock_guard lock(mu_);
        busy_.erase(c->fd);
        if (outcome != Outcome::drop && !exiting_) {
          if (c->draining) --open_;  // draining connections are not counted as open
          handed_.push_back(std::move(c));
          wake();
        }
      }
      if (!c) {
        settled_.notify_all();
        continue;
      }
      ::close(c->fd);
      release_one();
    }
  }

  // Answers the connection's requests while whole ones are pending, a few
  // at a time (then it goes back in line, behind other connections); true
  // when it should go back to the reader.
  enum class Outcome { keep, finish, drop };  // back to the reader; closed after a drain; closed now

  Outcome serve(Connection& c, const Settings& settings) {
    const std::size_t max_requests = std::max<std::size_t>(settings.max_requests, 1);
    for (int turn = 0;; ++turn) {
      const bool last = stopping_ || c.served + 1 >= max_requests;
      ConnectionStream stream(c, c.since + limits_.request_deadline, settings, stopping_);
      bool closed = false;
      bool ok = false;
      try {
        ok = server_.process_request(stream, last, closed, nullptr);
      } catch (...) {
        ok = false;  // cpp-httplib's own failure: the connection closes, the server goes on
      }
      ++c.served;
      if (stream.timed_out()) count(request_timeout_, "request_timeout");
      if (stream.payload_too_large()) count(payload_too_large_, "payload_too_large");
      const bool reusable = stream.finish_request();
      // A big body (and whatever its handler made of it) has been freed.
      const std::size_t freed = stream.received() + c.buffer.capacity();
      if (freed > kReadChunk) released_bytes_.fetch_add(freed, std::memory_order_relaxed);
      c.compact();
      if (!ok || stream.cut()) return Outcome::drop;
      if (closed || last || !reusable || stream.closes()) return Outcome::finish;
      c.arriving = !c.pending().empty();
      c.since = c.last_byte = Clock::now();
      if (!c.arriving) return Outcome::keep;
      if (turn + 1 < kRequestsPerTurn && evaluate(c, limits_) == Readiness::ready) continue;
      return Outcome::keep;  // the reader waits for the rest, refuses it, or dispatches it again
    }
  }

  // ---- shutdown ----

  bool shutdown(Clock::time_point deadline) {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake();
    work_ready_.notify_all();
    bool done;
    {
      std::unique_lock lock(mu_);
      done = settled_.wait_until(lock, deadline, [&] { return open_ == 0; });
      if (!done && !hard_stop_) {
        hard_stop_ = true;
        for (const int fd : busy_) {
          count(cut_at_shutdown_, "cut_at_shutdown");
          ::shutdown(fd, SHUT_RDWR);  // the fd stays ours until its worker closes it
        }
      }
    }
    if (!done) {
      wake();
      work_ready_.notify_all();
      // Cut connections fail at once; a handler busy in the user's code is
      // not interrupted, and is not waited for beyond this.
      std::unique_lock lock(mu_);
      done = settled_.wait_for(lock, std::chrono::milliseconds(100), [&] { return open_ == 0; });
    }
    return done;
  }

  Server& server_;
  const ServerLimits limits_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  std::condition_variable settled_;
  std::deque<std::unique_ptr<Connection>> work_;         // whole requests waiting for a worker
  std::vector<std::unique_ptr<Connection>> handed_;      // for the reader: new, or back from a worker
  std::unordered_set<int> busy_;                         // fds a worker is serving
  std::size_t open_ = 0;
  std::atomic<bool> stopping_{false};  // set under mu_; read without it while answering
  bool hard_stop_ = false;
  Settings settings_;                  // guarded by mu_; taken at the first connection
  bool settings_taken_ = false;
  // cpp-httplib's listening loop, guarded by mu_. Once it has run, only it
  // closes the listening socket (it may already have, when accept failed
  // for good, leaving the number to be reused): shutdown() only shuts the
  // socket down and keeps it for the loop's end.
  enum class Listening { not_yet, running, ended } listening_ = Listening::not_yet;
  socket_t taken_listener_ = INVALID_SOCKET;
  Clock::time_point stop_seen_{};      // the reader's: when it first saw stopping_
  Settings reader_settings_;           // the reader's copy of settings_
  bool exiting_ = false;

  std::atomic<std::size_t> released_bytes_{0};  // freed since the last trim, roughly
  Clock::time_point last_trim_{};                // the reader's

  std::atomic<std::uint64_t> header_too_large_{0};
  std::atomic<std::uint64_t> too_many_headers_{0};
  std::atomic<std::uint64_t> request_timeout_{0};
  std::atomic<std::uint64_t> too_many_connections_{0};
  std::atomic<std::uint64_t> cut_at_shutdown_{0};
  std::atomic<std::uint64_t> payload_too_large_{0};

  std::thread reader_;
  std::vector<std::thread> workers_;
};

namespace {
ServerLimits validated(ServerLimits limits) {
  if (limits.workers == 0) throw std::invalid_argument("obs::http::ServerLimits::workers must be at least 1");
  if (limits.max_connections == 0)
    throw std::invalid_argument("obs::http::ServerLimits::max_connections must be at least 1");
  if (limits.max_header_bytes < 64)
    throw std::invalid_argument("obs::http::ServerLimits::max_header_bytes must be at least 64");
  if (limits.max_header_fields == 0)
    throw std::invalid_argument("obs::http::ServerLimits::max_header_fields must be at least 1");
  if (limits.request_deadline <= std::chrono::milliseconds::zero())
    throw std::invalid_argument("obs::http::ServerLimits::request_deadline must be positive");
  return limits;
}

// Runs each accepted connection's hand-over on the accepting thread: it
// only queues the socket for the reader.
class InlineQueue final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};
}  // namespace

Server::Server(ServerLimits limits) : engine_(std::make_unique<Engine>(*this, validated(limits))) {
  new_task_queue = [] { return new InlineQueue(); };
  // One TCP connection for many requests (cpp-httplib's default is 5).
  set_keep_alive_max_count(1000);
  // A taken port must fail to bind: cpp-httplib's default sets
  // SO_REUSEPORT, which lets a second process share the port silently.
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

Server::~Server() {
  shutdown(Clock::now() + std::chrono::seconds(5));
  engine_.reset();
}

bool Server::shutdown(std::chrono::steady_clock::time_point deadline) {
  // What cpp-httplib's stop() does, but also before the listening loop has
  // started (stop() then does nothing and the loop would run forever) and
  // safely more than once (a second stop() trips an assertion). Not after
  // the loop ended: it may have closed the socket itself, and the number
  // may belong to another file by now.
  {
    std::lock_guard lock(engine_->mu_);
    using Listening = Engine::Listening;
    if (engine_->listening_ != Listening::ended) {
      const socket_t listening = svr_sock_.exchange(INVALID_SOCKET);
      if (listening != INVALID_SOCKET) {
        ::shutdown(listening, SHUT_RDWR);  // the loop's accept() fails and it returns
        if (engine_->listening_ == Listening::running) {
          engine_->taken_listener_ = listening;  // closed when the loop has returned
        } else {
          ::close(listening);
        }
      }
    }
  }
  return engine_->shutdown(deadline);
}

bool Server::listen_after_bind() {
  {
    std::lock_guard lock(engine_->mu_);
    engine_->listening_ = Engine::Listening::running;
  }
  const bool ok = httplib::Server::listen_after_bind();
  std::lock_guard lock(engine_->mu_);
  engine_->listening_ = Engine::Listening::ended;
  if (engine_->taken_listener_ != INVALID_SOCKET) {
    ::close(engine_->taken_listener_);
    engine_->taken_listener_ = INVALID_SOCKET;
  }
  return ok;
}

namespace {
void deepen_backlog(socket_t sock) {
  if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);  // on a listening socket: only the backlog changes
}
}  // namespace

bool Server::bind_to_port(const std::string& host, int port, int socket_flags) {
  const bool ok = httplib::Server::bind_to_port(host, port, socket_flags);
  if (ok) deepen_backlog(svr_sock_);
  return ok;
}

int Server::bind_to_any_port(const std::string& host, int socket_flags) {
  const int port = httplib::Server::bind_to_any_port(host, socket_flags);
  if (port > 0) deepen_backlog(svr_sock_);
  return port;
}

bool Server::listen(const std::string& host, int port, int socket_flags) {
  return bind_to_port(host, port, socket_flags) && listen_after_bind();
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(engine_->mu_);
  return engine_->open_;
}

ServerRefusals Server::refusals() const {
  const auto& e = *engine_;
  return {e.header_too_large_.load(), e.too_many_headers_.load(), e.request_timeout_.load(),
          e.too_many_connections_.load(), e.cut_at_shutdown_.load(), e.payload_too_large_.load()};
}

bool Server::process_and_close_socket(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);  // answers go out whole, at once
  engine_->adopt(sock);
  return true;
}

}  // namespace obs::http
