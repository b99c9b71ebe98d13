#include "trace/context.hpp"

#include "trace/random_ids.hpp"

namespace obs {

std::string TraceId::hex() const {
  std::string out;
  out.reserve(32);
  internal::append_hex(out, bytes.data(), bytes.size());
  return out;
}

std::string SpanId::hex() const {
  std::string out;
  out.reserve(16);
  internal::append_hex(out, bytes.data(), bytes.size());
  return out;
}

Context current_context() { return internal::current(); }

ContextScope::ContextScope(Context context) : previous_(std::move(internal::current())) {
  internal::current() = std::move(context);
}

ContextScope::~ContextScope() { internal::current() = std::move(previous_); }

}  // namespace obs
