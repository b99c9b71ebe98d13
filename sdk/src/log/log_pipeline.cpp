#include "log/log_pipeline.hpp"

namespace obs::internal {
template class ExportPipeline<LogTraits>;
}  // namespace obs::internal
