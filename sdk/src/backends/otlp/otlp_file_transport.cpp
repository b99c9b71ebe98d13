#include "backends/otlp/otlp_file_transport.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace obs::otlp {
namespace fs = std::filesystem;

namespace {
std::string backup_path(const std::string& directory, const std::string& signal, std::size_t n) {
  return (fs::path(directory) / (signal + "." + std::to_string(n) + ".jsonl")).string();
}
}  // namespace

OtlpFileTransport::OtlpFileTransport(const OtlpFileOptions& options, std::string_view signal)
    : directory_(options.directory.empty() ? "." : options.directory),
      signal_(signal),
      path_((fs::path(directory_) / (signal_ + ".jsonl")).string()),
      max_bytes_(options.max_file_bytes),
      max_backups_(options.max_backups) {
  std::error_code ec;
  fs::create_directories(directory_, ec);
  if (ec) throw std::invalid_argument("OTLP file directory '" + directory_ + "' cannot be created: " + ec.message());
  if (!open()) throw std::invalid_argument("OTLP file '" + path_ + "' cannot be opened: " + std::strerror(errno));
}

OtlpFileTransport::~OtlpFileTransport() {
  if (file_) std::fclose(file_);
}

bool OtlpFileTransport::open() {
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_) return false;
  std::error_code ec;
  const auto size = fs::file_size(path_, ec);
  size_ = ec ? 0 : static_cast<std::size_t>(size);
  return true;
}

void OtlpFileTransport::rotate() {
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  if (max_backups_ == 0) {
    fs::remove(path_, ec);
  } else {
    fs::remove(backup_path(directory_, signal_, max_backups_), ec);
    for (std::size_t n = max_backups_; n > 1; --n)
      fs::rename(backup_path(directory_, signal_, n - 1), backup_path(directory_, signal_, n), ec);
    fs::rename(path_, backup_path(directory_, signal_, 1), ec);
  }
}

internal::SendResult OtlpFileTransport::send(const std::string& body) {
  internal::SendResult r;
  // A line never spans two files: rotate before one that would not fit
  // (unless the file is empty, then the oversized line goes in alone).
  if (file_ && size_ > 0 && max_bytes_ > 0 && size_ + body.size() + 1 > max_bytes_) rotate();
  if (!file_ && !open()) {
    r.outcome = internal::SendResult::Outcome::Reject;
    r.kind = "open";
    r.problem = "cannot open " + path_ + ": " + std::error_code(errno, std::generic_category()).message();
    return r;
  }
  const bool ok = std::fwrite(body.data(), 1, body.size(), file_) == body.size() && std::fputc('\n', file_) != EOF &&
                  std::fflush(file_) == 0;
  if (!ok) {
    const int err = errno;
    r.outcome = internal::SendResult::Outcome::Reject;
    r.kind = "write";
    r.problem = "cannot write " + path_ + ": " + std::error_code(err, std::generic_category()).message();
    // Closed first (it may still write buffered bytes), then cut back to
    // the last whole line, so the file stays one JSON document per line.
    // The next send opens a fresh handle (the disk may have room again).
    std::fclose(file_);
    file_ = nullptr;
    (void)::truncate(path_.c_str(), static_cast<off_t>(size_));
    return r;
  }
  size_ += body.size() + 1;
  return r;
}

}  // namespace obs::otlp
