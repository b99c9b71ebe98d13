#include "backends/otlp/otlp_http.hpp"

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "export/http_transport.hpp"

namespace obs::otlp {
namespace {

// ExportXServiceResponse { partial_success = 1 { rejected_x = 1 (int64); error_message = 2 } }
// and google.rpc.Status { message = 2 }: only what we report, read leniently.
struct ProtoReader {
  std::string_view in;
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
      const auto b = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  // Visits each field; returns false on malformed input.
  template <class F>
  bool fields(F&& visit) {
    while (!in.empty()) {
      std::uint64_t key = 0;
      if (!varint(key)) return false;
      const auto field = key >> 3;
      switch (key & 7) {
        case 0: {
          std::uint64_t v = 0;
          if (!varint(v)) return false;
          visit(field, v, std::string_view());
          break;
        }
        case 1:
          if (in.size() < 8) return false;
          in.remove_prefix(8);
          break;
        case 5:
          if (in.size() < 4) return false;
          in.remove_prefix(4);
          break;
        case 2: {
          std::uint64_t len = 0;
          if (!varint(len) || len > in.size()) return false;
          visit(field, 0, in.substr(0, len));
          in.remove_prefix(len);
          break;
        }
        default: return false;
      }
    }
    return true;
  }
};

void partial_success_protobuf(std::string_view body, std::uint64_t& rejected, std::string& message) {
  ProtoReader response{body};
  response.fields([&](std::uint64_t field, std::uint64_t, std::string_view bytes) {
    if (field != 1) return;
    ProtoReader partial{bytes};
    partial.fields([&](std::uint64_t f, std::uint64_t v, std::string_view s) {
      if (f == 1) rejected = v;
      if (f == 2) message.assign(s);
    });
  });
}

std::string status_message_protobuf(std::string_view body) {
  std::string message;
  ProtoReader status{body};
  status.fields([&](std::uint64_t f, std::uint64_t, std::string_view s) {
    if (f == 2) message.assign(s);
  });
  return message;
}

std::string_view rejected_json_key(std::string_view signal) {
  if (signal == "traces") return "rejectedSpans";
  if (signal == "logs") return "rejectedLogRecords";
  return "rejectedDataPoints";
}

internal::HttpTransportOptions::Accepted read_accepted(std::string_view signal, const std::string& body,
                                                       const std::string& content_type) {
  internal::HttpTransportOptions::Accepted a;
  if (content_type.find("json") == std::string::npos) {
    partial_success_protobuf(body, a.rejected, a.message);
    return a;
  }
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("partialSuccess") || !j["partialSuccess"].is_object()) return a;
  const auto& p = j["partialSuccess"];
  const auto key = std::string(rejected_json_key(signal));
  if (p.contains(key)) {
    const auto& v = p[key];
    if (v.is_number_unsigned()) {
      a.rejected = v.get<std::uint64_t>();
    } else if (v.is_string()) {  // int64 fields are strings in OTLP JSON
      const auto& text = v.get_ref<const std::string&>();
      std::from_chars(text.data(), text.data() + text.size(), a.rejected);
    }
  }
  if (p.contains("errorMessage") && p["errorMessage"].is_string()) a.message = p["errorMessage"].get<std::string>();
  return a;
}

std::string read_error(const std::string& body, const std::string& content_type) {
  if (content_type.find("json") != std::string::npos) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
    return body;
  }
  if (content_type.find("protobuf") != std::string::npos) return status_message_protobuf(body);
  return body;
}

}  // namespace

std::unique_ptr<internal::Transport> make_http_transport(const OtlpOptions& o, std::string_view signal) {
  internal::HttpTransportOptions h;
  h.protocol = "OTLP";
  h.url = o.endpoint;
  h.content_type = o.protocol == OtlpProtocol::HttpJson ? "application/json" : "application/x-protobuf";
  h.headers = o.headers;
  if (o.gzip) h.content_encoding = "gzip";
  h.timeout = o.timeout;
  h.certificate = o.certificate;
  h.client_certificate = o.client_certificate;
  h.client_key = o.client_key;
  h.read_accepted = [signal = std::string(signal)](const std::string& body, const std::string& content_type) {
    return read_accepted(signal, body, content_type);
  };
  h.read_error = read_error;
  return std::make_unique<internal::HttpTransport>(std::move(h));
}

}  // namespace obs::otlp
