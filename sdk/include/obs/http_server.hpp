#pragma once
// A cpp-httplib server that slow, huge and idle clients cannot exhaust.
//
// httplib::Server gives each connection a worker thread from the moment it
// is accepted until it closes: a client sending a byte every few seconds,
// or idling between keep-alive requests, holds a worker, so a few dozen of
// them stop the service. Header fields are stored however many arrive, and
// requests pipelined in one write lose all but the first. obs::http::Server
// is an httplib::Server (routes, instrument(), every setter work as
// before) that reads each request's head, and a small body, on one
// background thread before a worker takes it, so workers only ever run
// requests that have fully arrived:
//
//   obs::http::Server server;                    // or Server(ServerLimits{...})
//   obs::http::instrument(server);
//   obs::http::route(server, "GET", "/users/{id}", handler);
//   server.bind_to_port("0.0.0.0", 8080);
//   std::thread listener([&] { server.listen_after_bind(); });
//   ...                                          // on SIGTERM:
//   server.shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5));
//   listener.join();
//
// cpp-httplib's own settings keep their meaning: set_keep_alive_timeout
// (idle time between requests), set_keep_alive_max_count (requests per
// connection), set_read_timeout and set_write_timeout (per silence while
// reading a request or writing an answer), set_payload_max_length (body
// size: 413, chunked bodies included). Make them before listening: they
// are read once, at the first connection. Connections always have
// TCP_NODELAY (set_tcp_nodelay is not used); new_task_queue is not used:
// workers come from ServerLimits::workers. Call bind_to_port,
// bind_to_any_port, listen and listen_after_bind on this class (not
// through an httplib::Server&). Plain HTTP only (cpp-httplib's SSLServer
// is not covered).
#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "obs/export.hpp"

namespace obs::http {

struct ServerLimits {
  // Threads running handlers. Idle and still-arriving connections take
  // none, so this bounds concurrent handlers, not connections.
  unsigned workers = 16;
  // Open connections at once; one more is answered 503 and closed.
  std::size_t max_connections = 1024;
  // Request line plus header fields, in bytes, and the number of fields.
  // Over either: 431, before any of it is stored as headers.
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_header_fields = 100;
  // From a request's first byte to the last byte of its body: a client
  // that has not sent the whole request by then is answered 408 (or cut,
  // if its handler already started reading the body) and disconnected,
  // however steadily it trickles. One silent for the read timeout
  // (set_read_timeout, 5 s by default) is dropped the same way sooner.
  std::chrono::milliseconds request_deadline{30'000};
  // Bodies up to this size (declared by Content-Length) are read before a
  // worker takes the request; larger and chunked bodies are read by the
  // handler's worker, within request_deadline.
  std::size_t buffered_body_bytes = 64 * 1024;
};

// Requests and connections the server refused, by reason. Also counted in
// the metric obs_http_server_refused_total{reason}.
struct ServerRefusals {
  std::uint64_t header_too_large = 0;    // 431: over max_header_bytes
  std::uint64_t too_many_headers = 0;    // 431: over max_header_fields
  std::uint64_t request_timeout = 0;     // 408 or cut: over request_deadline
  std::uint64_t too_many_connections = 0;  // 503: over max_connections
  std::uint64_t cut_at_shutdown = 0;     // connections still open at shutdown's deadline
  std::uint64_t payload_too_large = 0;   // 413 or cut: a chunked body over set_payload_max_length
};

class OBS_API Server : public httplib::Server {
 public:
  // Throws std::invalid_argument for zero workers, connections, header
  // bytes or fields, or a deadline that is not positive.
  explicit Server(ServerLimits limits = {});
  // Calls shutdown() with a 5 s deadline if it was not called.
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops accepting at once and closes idle connections (one that has not
  // sent a request yet gets 0.5 s to send one); requests already arriving,
  // waiting or running may finish until `deadline` (their answers say
  // Connection: close). At the deadline every remaining connection is cut
  // (shut down: its handler's reads and writes fail at once). Returns by
  // the deadline plus at most 0.1 s: true when nothing is left (every
  // connection finished or was cut), false when a handler is still busy in
  // your own code, which is not interrupted: the destructor waits for it. Safe to call more than
  // once and from any thread but a handler's; the listening thread's
  // listen_after_bind() returns.
  bool shutdown(std::chrono::steady_clock::time_point deadline);

  // As httplib::Server's, but listening with a backlog of SOMAXCONN, not
  // cpp-httplib's 5: a burst of new connections overflowed that, and the
  // clients left out waited for SYN retransmissions (1 s, 3 s, ...).
  bool bind_to_port(const std::string& host, int port, int socket_flags = 0);
  int bind_to_any_port(const std::string& host, int socket_flags = 0);
  bool listen(const std::string& host, int port, int socket_flags = 0);
  // As httplib::Server's; shutdown() then knows when the loop has ended.
  bool listen_after_bind();

  // Connections open now: waiting for a request, arriving, or running.
  std::size_t open_connections() const;
  ServerRefusals refusals() const;

 private:
  bool process_and_close_socket(socket_t sock) override;

  struct Engine;
  std::unique_ptr<Engine> engine_;
};

}  // namespace obs::http
