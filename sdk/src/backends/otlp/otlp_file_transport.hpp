#pragma once
// OTLP JSON lines file transport (internal): each request body (OTLP JSON,
// one line) is appended to <directory>/<signal>.jsonl, the format the
// Collector's file exporter writes and its otlpjsonfile receiver reads.
// Size-based rotation: a full file becomes <signal>.1.jsonl, older backups
// shift up to max_backups and the oldest is removed.
#include <cstdio>
#include <string>
#include <string_view>

#include "export/transport.hpp"
#include "obs/otlp.hpp"

namespace obs::otlp {

class OtlpFileTransport final : public internal::Transport {
 public:
  // Creates the directory if needed; throws std::invalid_argument if it
  // cannot be created or the file cannot be opened.
  OtlpFileTransport(const OtlpFileOptions& options, std::string_view signal);
  ~OtlpFileTransport() override;

  internal::SendResult send(const std::string& body) override;
  const std::string& destination() const override { return path_; }

 private:
  bool open();
  void rotate();

  std::string directory_;
  std::string signal_;
  std::string path_;
  std::size_t max_bytes_;
  std::size_t max_backups_;
  std::FILE* file_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace obs::otlp
