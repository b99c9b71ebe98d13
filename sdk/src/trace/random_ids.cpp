#include "trace/random_ids.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>

namespace obs::internal {
namespace {

std::mt19937_64& generator() {
  // Seeded per thread from the OS plus thread id and time, so threads (and
  // forked children, which reseed on their first new thread) do not share
  // a sequence.
  static thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), static_cast<unsigned>(::syscall(SYS_gettid)),
                      static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count())};
    return std::mt19937_64(seq);
  }());
  return gen;
}

}  // namespace

void random_bytes(std::uint8_t* out, std::size_t n) {
  auto& gen = generator();
  while (n > 0) {
    const std::uint64_t v = gen();
    const std::size_t k = n < 8 ? n : 8;
    std::memcpy(out, &v, k);
    out += k;
    n -= k;
  }
}

TraceId new_trace_id() {
  TraceId id;
  do random_bytes(id.bytes.data(), id.bytes.size());
  while (!id.valid());
  return id;
}

SpanId new_span_id() {
  SpanId id;
  do random_bytes(id.bytes.data(), id.bytes.size());
  while (!id.valid());
  return id;
}

void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
}

}  // namespace obs::internal
