#include "trace/context.hpp"

#include <cxxabi.h>

#include <cstdlib>

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

namespace internal {
std::string type_name(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && name ? name : type.name();
  std::free(name);
  return out;
}
}  // namespace internal

Context current_context() { return internal::context_alive() ? internal::current() : Context{}; }

ContextScope::ContextScope(Context context) {
  if (!internal::context_alive()) return;
  previous_ = std::move(internal::current());
  internal::current() = std::move(context);
  installed_ = internal::current().span.span_id;
  owner_ = &internal::current();
}

ContextScope::~ContextScope() {
  // Restore only on the thread that installed it, and only while what it
  // installed is still current: never clobber another thread's context.
  if (!owner_ || !internal::context_alive() || owner_ != &internal::current() ||
      !(internal::current().span.span_id == installed_))
    return;
  internal::current() = std::move(previous_);
}

}  // namespace obs
