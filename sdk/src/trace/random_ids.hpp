#pragma once
// Trace and span ids from a per-thread PRNG: no lock, no system call after
// the first use on a thread. Never all zero, as W3C requires.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "obs/trace_context.hpp"

namespace obs::internal {

// Incremented in a fork()ed child, so every IdSource reseeds there instead
// of repeating the ids its copy in the parent goes on to draw.
extern std::atomic<unsigned> g_fork_generation;

// xoshiro256** seeded from the OS: ids must not collide, not resist an
// attacker (the W3C asks for random ids; mt19937, used before, was no
// stronger), and this costs a few instructions instead of mt19937's 2.5 KB
// of state per thread and its periodic refills.
class IdSource {
 public:
  std::uint64_t next() {
    if (generation_ != g_fork_generation.load(std::memory_order_relaxed)) [[unlikely]]
      reseed();
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  TraceId trace_id();
  SpanId span_id();

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  void reseed();

  std::uint64_t s_[4] = {};
  unsigned generation_ = ~0u;  // seeds on first use
};

void random_bytes(std::uint8_t* out, std::size_t n);
TraceId new_trace_id();
SpanId new_span_id();
// Appends 2*n lower-case hex digits.
void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t n);

}  // namespace obs::internal
