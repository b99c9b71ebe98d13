#pragma once
// Trace and span ids from a per-thread PRNG: no lock, no system call after
// the first use on a thread. Never all zero, as W3C requires.
#include <cstddef>
#include <cstdint>

#include "obs/trace_context.hpp"

namespace obs::internal {

void random_bytes(std::uint8_t* out, std::size_t n);
TraceId new_trace_id();
SpanId new_span_id();
// Appends 2*n lower-case hex digits.
void append_hex(std::string& out, const std::uint8_t* bytes, std::size_t n);

}  // namespace obs::internal
