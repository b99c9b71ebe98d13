// Exposes the address of this thread's current span to the metric cells, so
// a histogram observation can tell with one load whether it happens inside a
// sampled span (and then keep an exemplar).
#include "obs/detail/cells.hpp"
#include "trace/context.hpp"

namespace obs::detail {

const SpanContext* this_thread_span_context() { return internal::thread_span_context_address(); }

}  // namespace obs::detail
