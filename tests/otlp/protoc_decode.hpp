#pragma once
// Decoding OTLP protobuf bodies with the real protoc (Debian's
// protobuf-compiler) against the .proto files in sdk/proto, for the OTLP
// tests. OBS_PROTOC and OBS_PROTO_DIR come from tests/otlp/CMakeLists.txt.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>

namespace obs_test {

// protoc's text format escaping of a bytes or string field (CEscape: bytes
// outside printable ASCII, UTF-8 included, come out as octal escapes).
inline std::string escaped(std::string_view bytes) {
  std::string out = "\"";
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    switch (b) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (b < 0x20 || b >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%03o", b);
          out += buf;
        } else {
          out += static_cast<char>(b);
        }
    }
  }
  return out + "\"";
}
template <std::size_t N>
inline std::string escaped(const std::array<std::uint8_t, N>& bytes) {
  return escaped(std::string_view(reinterpret_cast<const char*>(bytes.data()), N));
}

struct Decoded {
  int status = -1;
  std::string text;
};

// Runs `protoc --decode=<type>` on `bytes`; the text output with each line's
// indentation removed.
inline Decoded protoc_decode(const std::string& type, const std::string& proto, const std::string& bytes) {
  Decoded d;
  std::string protoc = OBS_PROTOC;
  if (protoc.empty()) {
    ADD_FAILURE() << "protoc was not found when configuring: install protobuf-compiler "
                     "(scripts/install-deps.sh) and re-run cmake";
    return d;
  }
  char path[] = "/tmp/obs_otlp_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp failed";
    return d;
  }
  {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  close(fd);
  std::string cmd = "'" + protoc + "' --decode=" + type + " -I '" + OBS_PROTO_DIR + "' " + proto + " < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    ADD_FAILURE() << "popen failed: " << cmd;
    unlink(path);
    return d;
  }
  std::string raw;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) raw.append(buf, n);
  int rc = pclose(p);
  unlink(path);
  d.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::istringstream in(raw);
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find_first_not_of(' ');
    d.text += (pos == std::string::npos ? "" : line.substr(pos)) + "\n";
  }
  EXPECT_EQ(d.status, 0) << "protoc failed:\n" << raw;
  return d;
}

// Every expected line appears in `text`, as a whole line, in this order.
inline void expect_lines_in_order(const std::string& text, std::initializer_list<std::string> lines) {
  const std::string t = "\n" + text;
  std::size_t pos = 0;  // at a '\n' that may start the next match
  for (const auto& l : lines) {
    auto found = t.find("\n" + l + "\n", pos);
    if (found == std::string::npos) {
      ADD_FAILURE() << "line not found (in order): " << l << "\nin:\n" << text;
      return;
    }
    pos = found + l.size() + 1;
  }
}

}  // namespace obs_test
