// The soak test's OTLP/HTTP receiver (scripts/soak.sh). Its data port can
// be switched at run time between three states through a control port:
//
//   POST /state/healthy  answer every export at once (200)
//   POST /state/slow     answer every export after --slow-ms (default 5000)
//   POST /state/down     close the listening socket: connections are refused
//
// and, for the chaos suite (tests/chaos), hostile ones:
//
//   POST /state/huge       count the export, then answer 200 with a 1 GiB body
//   POST /state/redirect   answer 307 to another address (not counted)
//   POST /state/cut        answer 200 declaring 1000 bytes, send 10, close (not counted)
//   POST /state/trickle    answer 200 a byte every 500 ms (not counted)
//   POST /state/blackhole  accept connections and never read from them
//
// Each answer returns once the switch is in effect (for "down", the socket
// is closed and the requests in progress are answered). The data port
// stays the same across "down" and back.
//
// It decodes the protobuf bodies (uncompressed) and counts what it
// acknowledged: spans, log records, metric data points. The e2e service
// names each request's sequence number in the URL (/items/<n>), which
// ends up in the span's url.path and the log record's item_id: the
// receiver records which numbers it got, so that
//
//   GET /counts?ranges=name:first:end,...
//
// reports, besides the totals, how many spans and log records of each
// range of sequence numbers arrived, which are missing and which came
// twice, and
//
//   GET /seen/spans?first=N&end=M   (or /seen/logs)
//
// one digit per sequence number: how many times it arrived. Stops on
// SIGINT/SIGTERM.
//
//   soak_receiver --port-file PATH --control-port-file PATH [--slow-ms N]
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// ---- a minimal protobuf reader: enough to walk OTLP's nesting ----

struct Field {
  std::uint32_t number = 0;
  std::uint32_t wire = 0;
  std::uint64_t value = 0;  // varint, fixed64 or fixed32
  std::string_view bytes;   // length-delimited
};

class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  // False at the end; throws on malformed input.
  bool next(Field& f) {
    if (p_ == end_) return false;
    const std::uint64_t key = varint();
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire = static_cast<std::uint32_t>(key & 7);
    switch (f.wire) {
      case 0: f.value = varint(); break;
      case 1: f.value = fixed(8); break;
      case 5: f.value = fixed(4); break;
      case 2: {
        const std::uint64_t n = varint();
        if (n > static_cast<std::uint64_t>(end_ - p_)) throw std::runtime_error("truncated length-delimited field");
        f.bytes = std::string_view(p_, n);
        p_ += n;
        break;
      }
      default: throw std::runtime_error("unsupported wire type " + std::to_string(f.wire));
    }
    return true;
  }

 private:
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) throw std::runtime_error("truncated varint");
      const auto b = static_cast<unsigned char>(*p_++);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("varint too long");
  }
  std::uint64_t fixed(int n) {
    if (end_ - p_ < n) throw std::runtime_error("truncated fixed field");
    std::uint64_t v = 0;
    std::memcpy(&v, p_, static_cast<std::size_t>(n));  // little-endian host
    p_ += n;
    return v;
  }
  const char* p_;
  const char* end_;
};

// Calls fn(Field) for every field `number` (length-delimited) of `msg`.
template <class Fn>
void each(std::string_view msg, std::uint32_t number, Fn&& fn) {
  Reader r(msg);
  Field f;
  while (r.next(f))
    if (f.number == number && f.wire == 2) fn(f.bytes);
}

// The sequence number in "/items/<n>" or "<n>"; -1 if there is none.
long long sequence_number(std::string_view s) {
  if (s.rfind("/items/", 0) == 0) s.remove_prefix(7);
  long long n = -1;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return ec == std::errc() && ptr == s.data() + s.size() && n >= 0 ? n : -1;
}

// The sequence number in the string value of attribute `key` among the
// KeyValues (field `field`) of `msg`; -1 if absent.
long long attribute_sequence(std::string_view msg, std::uint32_t field, std::string_view key) {
  long long seq = -1;
  each(msg, field, [&](std::string_view kv) {
    std::string_view k, value;
    Reader r(kv);
    Field f;
    while (r.next(f)) {
      if (f.number == 1 && f.wire == 2) k = f.bytes;
      else if (f.number == 2 && f.wire == 2) value = f.bytes;
    }
    if (k != key) return;
    Reader v(value);
    while (v.next(f))
      if (f.number == 1 && f.wire == 2) seq = sequence_number(f.bytes);  // AnyValue.string_value
  });
  return seq;
}

struct Decoded {
  std::uint64_t items = 0;      // spans, log records or data points
  std::vector<long long> seqs;  // spans and logs: the sequence numbers (-1: none)
  double served = -1;           // metrics: e2e_items_served, if present
  double http_requests = -1;    // metrics: the count of http_server_request_duration_seconds
};

// ExportTraceServiceRequest: resource_spans(1) > scope_spans(2) > spans(2);
// Span.attributes(9), url.path = "/items/<n>".
Decoded decode_traces(std::string_view body) {
  Decoded d;
  each(body, 1, [&](std::string_view rs) {
    each(rs, 2, [&](std::string_view ss) {
      each(ss, 2, [&](std::string_view span) {
        ++d.items;
        d.seqs.push_back(attribute_sequence(span, 9, "url.path"));
      });
    });
  });
  return d;
}

// ExportLogsServiceRequest: resource_logs(1) > scope_logs(2) > log_records(2);
// LogRecord.attributes(6), item_id = "<n>".
Decoded decode_logs(std::string_view body) {
  Decoded d;
  each(body, 1, [&](std::string_view rl) {
    each(rl, 2, [&](std::string_view sl) {
      each(sl, 2, [&](std::string_view record) {
        ++d.items;
        d.seqs.push_back(attribute_sequence(record, 6, "item_id"));
      });
    });
  });
  return d;
}

// ExportMetricsServiceRequest: resource_metrics(1) > scope_metrics(2) >
// metrics(2) > gauge(5) | sum(7) | histogram(9) > data_points(1).
Decoded decode_metrics(std::string_view body) {
  Decoded d;
  each(body, 1, [&](std::string_view rm) {
    each(rm, 2, [&](std::string_view sm) {
      each(sm, 2, [&](std::string_view metric) {
        std::string_view name;
        {
          Reader r(metric);
          Field f;
          while (r.next(f))
            if (f.number == 1 && f.wire == 2) name = f.bytes;
        }
        double total = 0;
        bool counted = false;
        for (std::uint32_t kind : {5u, 7u, 9u}) {
          each(metric, kind, [&](std::string_view data) {
            each(data, 1, [&](std::string_view point) {
              ++d.items;
              Reader r(point);
              Field f;
              while (r.next(f)) {
                // NumberDataPoint.as_double(4); HistogramDataPoint.count(4), fixed64
                if (f.number == 4 && f.wire == 1) {
                  double v = 0;
                  if (kind == 9) v = static_cast<double>(f.value);
                  else std::memcpy(&v, &f.value, sizeof v);
                  total += v;
                  counted = true;
                }
              }
            });
          });
        }
        if (!counted) return;
        if (name == "e2e_items_served" || name == "e2e_items_served_total") d.served = total;
        if (name == "http_server_request_duration_seconds") d.http_requests = total;
      });
    });
  });
  return d;
}

// ---- what was received ----

class Tally {
 public:
  enum Signal { kSpans = 0, kLogs = 1, kMetrics = 2 };

  void add(Signal s, const Decoded& d, std::size_t bytes) {
    std::lock_guard lock(mutex_);
    auto& c = counts_[s];
    ++c.requests;
    c.bytes += bytes;
    c.items += d.items;
    if (s == kMetrics) {
      served_ = std::max(served_, d.served);
      http_requests_ = std::max(http_requests_, d.http_requests);
      return;
    }
    auto& seen = seen_[s];
    for (long long seq : d.seqs) {
      if (seq < 0 || seq > kMaxSequence) {
        ++c.unnumbered;
        continue;
      }
      if (static_cast<std::size_t>(seq) >= seen.size()) seen.resize(static_cast<std::size_t>(seq) + 1 + (1 << 16), 0);
      if (seen[static_cast<std::size_t>(seq)] < 255) ++seen[static_cast<std::size_t>(seq)];
    }
  }
  void malformed() {
    std::lock_guard lock(mutex_);
    ++malformed_;
  }

  // One character per sequence number in [first, end): how many times its
  // span (or log record) arrived, '0' to '9' (more shows as 9).
  std::string seen(Signal s, long long first, long long end) {
    std::lock_guard lock(mutex_);
    std::string out;
    const auto& seen = seen_[s];
    for (long long i = std::max(0LL, first); i < end && i <= kMaxSequence; ++i) {
      const unsigned n = static_cast<std::size_t>(i) < seen.size() ? seen[static_cast<std::size_t>(i)] : 0;
      out += static_cast<char>('0' + std::min(n, 9u));
    }
    return out;
  }

  // Totals, then one line per range "name:first:end" (end exclusive).
  std::string report(const std::vector<std::string>& ranges) {
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    const char* names[] = {"spans", "logs", "metric_points"};
    for (int s = 0; s < 3; ++s) {
      const auto& c = counts_[s];
      out << names[s] << " received=" << c.items << " requests=" << c.requests << " bytes=" << c.bytes;
      if (s != kMetrics) out << " unnumbered=" << c.unnumbered << " duplicates=" << duplicates(seen_[s], 0, seen_[s].size());
      out << '\n';
    }
    out << "served_counter_max=" << static_cast<long long>(served_) << '\n';
    out << "http_requests_max=" << static_cast<long long>(http_requests_) << '\n';
    out << "malformed_requests=" << malformed_ << '\n';
    for (const auto& range : ranges) {
      std::string name;
      long long first = 0, end = 0;
      std::istringstream in(range);
      if (!std::getline(in, name, ':') || !(in >> first) || in.get() != ':' || !(in >> end) || first < 0 || end < first ||
          end > kMaxSequence) {
        out << "range=" << range << " error=not name:first:end\n";
        continue;
      }
      out << "range=" << name << " first=" << first << " end=" << end;
      for (int s = 0; s < 2; ++s) {
        const auto& seen = seen_[s];
        std::uint64_t got = 0, missing = 0;
        long long last_missing = -1;
        for (long long i = first; i < end; ++i) {
          const bool have = static_cast<std::size_t>(i) < seen.size() && seen[static_cast<std::size_t>(i)] > 0;
          if (have) {
            ++got;
          } else {
            ++missing;
            last_missing = i;
          }
        }
        out << ' ' << names[s] << "=" << got << ' ' << names[s] << "_missing=" << missing << ' ' << names[s]
            << "_last_missing=" << last_missing << ' ' << names[s]
            << "_duplicates=" << duplicates(seen, static_cast<std::size_t>(first), static_cast<std::size_t>(end));
      }
      out << '\n';
    }
    return out.str();
  }

 private:
  static constexpr long long kMaxSequence = 100'000'000;
  struct Counts {
    std::uint64_t requests = 0, bytes = 0, items = 0, unnumbered = 0;
  };
  static std::uint64_t duplicates(const std::vector<std::uint8_t>& seen, std::size_t first, std::size_t end) {
    std::uint64_t n = 0;
    for (std::size_t i = first; i < std::min(end, seen.size()); ++i)
      if (seen[i] > 1) n += seen[i] - 1u;
    return n;
  }
  std::mutex mutex_;
  Counts counts_[3];
  std::vector<std::uint8_t> seen_[2];  // spans, logs: how often each sequence number arrived
  double served_ = -1, http_requests_ = -1;
  std::uint64_t malformed_ = 0;
};

// ---- the switchable data port ----

enum class State { Healthy, Slow, Down, Huge, Redirect, Cut, Trickle, Blackhole };

State state_named(const std::string& name) {
  if (name == "slow") return State::Slow;
  if (name == "down") return State::Down;
  if (name == "huge") return State::Huge;
  if (name == "redirect") return State::Redirect;
  if (name == "cut") return State::Cut;
  if (name == "trickle") return State::Trickle;
  if (name == "blackhole") return State::Blackhole;
  return State::Healthy;
}

// A listener on the data port that accepts connections and never reads
// them (nor closes them until it is stopped).
class Blackhole {
 public:
  ~Blackhole() { close(); }
  bool open(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int yes = 1;
    // As cpp-httplib's listener had: its accepted connections, still
    // closing, carry both options, and a socket without SO_REUSEPORT may
    // not share the port with them.
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 128) != 0) {
      std::fprintf(stderr, "soak_receiver: cannot listen on port %d for the blackhole: %s\n", port, std::strerror(errno));
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // closed
        std::lock_guard lock(mutex_);
        held_.push_back(c);
      }
    });
    return true;
  }
  void close() {
    if (fd_ < 0) return;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    fd_ = -1;
    for (int c : held_) ::close(c);
    held_.clear();
  }

 private:
  int fd_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<int> held_;
};

class DataPort {
 public:
  DataPort(Tally& tally, std::chrono::milliseconds slow) : tally_(tally), slow_(slow) {}
  ~DataPort() { close(); }

  // Binds a free port the first time, the same port afterwards.
  bool open() {
    if (server_) return true;
    auto server = std::make_unique<httplib::Server>();
    // One request per connection: a connection kept alive across "down"
    // would still be served after the listening socket is closed.
    server->set_keep_alive_max_count(1);
    server->set_payload_max_length(64 << 20);
    server->Post(R"(/v1/(traces|logs|metrics))",
                 [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    if (port_ == 0) {
      port_ = server->bind_to_any_port("127.0.0.1");
      if (port_ <= 0) return false;
    } else if (!server->bind_to_port("127.0.0.1", port_)) {
      std::fprintf(stderr, "soak_receiver: cannot listen on port %d again (taken meanwhile?)\n", port_);
      return false;
    }
    server_ = std::move(server);
    thread_ = std::thread([s = server_.get()] { s->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::yield();
    return true;
  }
  // Closes the listening socket and waits for the requests in progress.
  void close() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }
  void set_state(State s) {
    std::lock_guard lock(mutex_);
    state_ = s;
  }
  // Lets the slow answers in progress go at once (the process stops).
  void quit() {
    {
      std::lock_guard lock(mutex_);
      quitting_ = true;
    }
    changed_.notify_all();
  }
  int port() const { return port_; }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    const std::string signal = req.matches[1].str();
    if (req.get_header_value("Content-Type") != "application/x-protobuf" || req.has_header("Content-Encoding")) {
      tally_.malformed();
      res.status = 415;
      res.set_content("soak_receiver decodes uncompressed application/x-protobuf only", "text/plain");
      return;
    }
    Decoded d;
    const Tally::Signal s = signal == "traces" ? Tally::kSpans : signal == "logs" ? Tally::kLogs : Tally::kMetrics;
    try {
      d = s == Tally::kSpans ? decode_traces(req.body) : s == Tally::kLogs ? decode_logs(req.body) : decode_metrics(req.body);
    } catch (const std::exception& e) {
      tally_.malformed();
      res.status = 400;
      res.set_content(std::string("malformed protobuf: ") + e.what(), "text/plain");
      return;
    }
    {
      // A slow receiver: the answer (and so the count) comes after the delay.
      std::unique_lock lock(mutex_);
      if (state_ == State::Slow) {
        const auto until = std::chrono::steady_clock::now() + slow_;
        changed_.wait_until(lock, until, [&] { return quitting_; });
      }
    }
    State state;
    {
      std::lock_guard lock(mutex_);
      state = state_;
    }
    switch (state) {
      case State::Redirect:
        res.status = 307;
        res.set_header("Location", "http://127.0.0.1:9" + req.path);
        return;
      case State::Cut:
        res.set_content_provider(1000, "application/x-protobuf", [](std::size_t offset, std::size_t, httplib::DataSink& sink) {
          if (offset == 0) sink.write("\0\0\0\0\0\0\0\0\0\0", 10);
          return false;  // cpp-httplib closes the connection mid-answer
        });
        return;
      case State::Trickle:
        res.set_content_provider(100, "application/x-protobuf", [this](std::size_t, std::size_t, httplib::DataSink& sink) {
          std::unique_lock lock(mutex_);
          if (changed_.wait_for(lock, std::chrono::milliseconds(500), [&] { return quitting_; })) return false;
          return sink.write("\0", 1);
        });
        return;
      case State::Huge:
        tally_.add(s, d, req.body.size());
        res.set_content_provider(std::size_t{1} << 30, "application/x-protobuf",
                                 [zeros = std::string(64 * 1024, '\0')](std::size_t offset, std::size_t length,
                                                                        httplib::DataSink& sink) {
                                   (void)offset;
                                   return sink.write(zeros.data(), std::min(length, zeros.size()));
                                 });
        return;
      default:
        tally_.add(s, d, req.body.size());
        res.set_content("", "application/x-protobuf");
    }
  }

  Tally& tally_;
  const std::chrono::milliseconds slow_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  State state_ = State::Healthy;
  bool quitting_ = false;
};

void write_port_file(const std::string& path, int port) {
  std::ofstream(path + ".tmp") << port << '\n';
  std::rename((path + ".tmp").c_str(), path.c_str());
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep))
    if (!part.empty()) out.push_back(part);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string port_file, control_port_file;
  long long slow_ms = 5000;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--port-file" && i + 1 < argc) port_file = argv[++i];
    else if (arg == "--control-port-file" && i + 1 < argc) control_port_file = argv[++i];
    else if (arg == "--slow-ms" && i + 1 < argc) slow_ms = std::atoll(argv[++i]);
    else {
      std::fprintf(stderr, "usage: soak_receiver --port-file PATH --control-port-file PATH [--slow-ms N]\n");
      return 2;
    }
  }
  if (port_file.empty() || control_port_file.empty() || slow_ms < 0) {
    std::fprintf(stderr, "soak_receiver: --port-file and --control-port-file are required, --slow-ms >= 0\n");
    return 2;
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Tally tally;
  DataPort data(tally, std::chrono::milliseconds(slow_ms));
  if (!data.open()) return 1;

  std::mutex switching;  // one state change at a time
  httplib::Server control;
  Blackhole blackhole;
  control.Post(R"(/state/(healthy|slow|down|huge|redirect|cut|trickle|blackhole))", [&](const httplib::Request& req,
                                                                                   httplib::Response& res) {
    const std::string name = req.matches[1].str();
    std::lock_guard lock(switching);
    blackhole.close();
    if (name == "down" || name == "blackhole") {
      data.set_state(state_named(name));
      data.close();
      if (name == "blackhole" && !blackhole.open(data.port())) {
        res.status = 500;
        res.set_content("cannot listen on the data port again\n", "text/plain");
        return;
      }
    } else {
      data.set_state(state_named(name));
      if (!data.open()) {
        res.status = 500;
        res.set_content("cannot listen on the data port again\n", "text/plain");
        return;
      }
    }
    res.set_content(name + "\n", "text/plain");
  });
  control.Get(R"(/seen/(spans|logs))", [&](const httplib::Request& req, httplib::Response& res) {
    const auto s = req.matches[1].str() == "spans" ? Tally::kSpans : Tally::kLogs;
    res.set_content(tally.seen(s, std::atoll(req.get_param_value("first").c_str()),
                               std::atoll(req.get_param_value("end").c_str())),
                    "text/plain");
  });
  control.Get("/counts", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_content(tally.report(split(req.get_param_value("ranges"), ',')), "text/plain");
  });
  const int control_port = control.bind_to_any_port("127.0.0.1");
  if (control_port <= 0) return 1;
  std::thread control_thread([&] { control.listen_after_bind(); });
  while (!control.is_running()) std::this_thread::yield();
  write_port_file(port_file, data.port());
  write_port_file(control_port_file, control_port);

  int sig = 0;
  sigwait(&stop, &sig);
  data.quit();
  control.stop();
  control_thread.join();
  blackhole.close();
  data.close();
  std::fputs(tally.report({}).c_str(), stdout);
  return 0;
}
