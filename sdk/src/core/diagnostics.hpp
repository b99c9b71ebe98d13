#pragma once
// The SDK's own error channel. Messages go to the configured handler (or
// stderr), never through the log pipeline, so a broken pipeline can still
// report itself. Repeats of the same problem are rate-limited per key.
#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace obs::internal {

void report_error(std::string_view key, std::string_view message);
// The message of an exception caught with catch (...).
std::string describe(std::exception_ptr e);
void set_error_handler(std::function<void(std::string_view)> handler);
// Installs `handler` (nullptr: stderr) and forgets which problems were
// already reported, so the next run reports them again.
void reset_error_reporting(std::function<void(std::string_view)> handler);

}  // namespace obs::internal
