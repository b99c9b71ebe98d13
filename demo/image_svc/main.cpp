// image_svc: converts images. POST /image_svc/ConvertImage takes a binary
// PPM or PGM image and answers it resized and re-encoded (demo/imaging),
// recording each step as a span and the whole conversion in
// image_svc_conversion_duration_seconds{output_format}. See docs/demo.md.
#include <charconv>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "imaging.hpp"
#include "obs/obs.hpp"
#include "service.hpp"

namespace demo {
extern const char kOpenApiDocument[];
}

namespace {

using Clock = std::chrono::steady_clock;
namespace imaging = demo::imaging;

// A query parameter as a positive dimension; 0 when absent, -1 when invalid.
int dimension(const httplib::Request &req, const char *name) {
  if (!req.has_param(name)) return 0;
  const std::string v = req.get_param_value(name);
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n <= 0 || n > imaging::kMaxDimension) return -1;
  return n;
}

}  // namespace

int main(int argc, char **argv) {
  demo::Service service({.name = "image_svc",
                         .summary = "The demo's image converter: decodes, "
                                    "resizes and re-encodes PPM/PGM images.",
                         .default_port = 8084,
                         .env = {},
                         .openapi_json = demo::kOpenApiDocument,
                         .max_body_bytes = std::size_t{64} << 20});  // an 8192 x 8192 PGM, with room
  if (auto status = service.parse_args(argc, argv)) return *status;

  // Registered before the SDK starts, on first use the families are found
  // again by name (the registry keeps them).
  static const auto conversion_duration =
      obs::histogram("image_svc.conversion.duration", {"output_format"},
                     {.description = "Time to decode, resize and encode one image.",
                      .unit = "s",
                      .buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}});
  static const auto input_bytes =
      obs::counter("image_svc.conversion.input", {},
                   {.description = "Bytes of images received for conversion.", .unit = "By"});

  auto conversions = std::make_shared<demo::Limiter>(std::max(2u, std::thread::hardware_concurrency()));
  service.route("POST", "/image_svc/ConvertImage", [conversions](const httplib::Request &req, httplib::Response &res) {
    const int width = dimension(req, "width");
    const int height = dimension(req, "height");
    if (width < 0 || height < 0)
      return demo::send_error(
          res, 400, "width and height must be whole numbers from 1 to " + std::to_string(imaging::kMaxDimension));
    const auto format = imaging::parse_format(req.has_param("format") ? req.get_param_value("format") : "ppm");
    if (!format) return demo::send_error(res, 400, "format must be ppm or pgm");
    // The label and attributes take the canonical name, never the client's
    // spelling.
    const std::string format_name = *format == imaging::Format::pgm ? "pgm" : "ppm";
    if (req.body.empty()) return demo::send_error(res, 400, "the request body must be a PPM (P6) or PGM (P5) image");

    // Each conversion holds the decoded image and its resized copy (up to
    // 48 MiB each): a few at a time, not one per server thread.
    demo::Admission admission(*conversions, std::chrono::seconds(5));
    if (!admission) {
      res.set_header("Retry-After", "1");
      return demo::send_error(res, 503, "too many conversions in progress; retry");
    }
    const auto started = Clock::now();
    obs::Span span("ConvertImage", {{"image.input.bytes", static_cast<std::int64_t>(req.body.size())},
                                    {"image.output.format", format_name}});
    input_bytes.labels().inc(static_cast<double>(req.body.size()));
    imaging::Image image;
    try {
      obs::Span decode("decode image");
      image = imaging::decode(req.body);
      decode.set_attribute({"image.width", image.width});
      decode.set_attribute({"image.height", image.height});
    } catch (const imaging::DecodeError &e) {
      span.set_status(obs::SpanStatus::Error, "undecodable input");
      obs::log::warning("Rejected an undecodable image", {{"error", e.what()}, {"bytes", req.body.size()}});
      return demo::send_error(res, 400, std::string("cannot decode the image: ") + e.what());
    }
    // A missing dimension keeps the aspect ratio.
    int w = width, h = height;
    if (w == 0 && h == 0) {
      w = image.width;
      h = image.height;
    } else if (w == 0) {
      w = std::max(1, static_cast<int>(static_cast<long long>(image.width) * h / image.height));
    } else if (h == 0) {
      h = std::max(1, static_cast<int>(static_cast<long long>(image.height) * w / image.width));
    }
    if (w > imaging::kMaxDimension || h > imaging::kMaxDimension ||
        static_cast<std::int64_t>(w) * h > imaging::kMaxPixels) {
      span.set_status(obs::SpanStatus::Error, "output too large");
      return demo::send_error(res, 400,
                              "the output would be " + std::to_string(w) + "x" + std::to_string(h) + ": at most " +
                                  std::to_string(imaging::kMaxDimension) + " per side and " +
                                  std::to_string(imaging::kMaxPixels) + " pixels");
    }
    std::string output;
    {
      obs::Span resize("resize image", {{"image.width", w}, {"image.height", h}});
      image = imaging::resize(image, w, h);
    }
    {
      obs::Span encode("encode image", {{"image.output.format", format_name}});
      output = imaging::encode(image, *format);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    conversion_duration.labels(format_name).observe(seconds);
    span.set_attribute({"image.output.bytes", static_cast<std::int64_t>(output.size())});
    obs::log::info("Image converted", {{"width", w},
                                       {"height", h},
                                       {"format", format_name},
                                       {"input_bytes", req.body.size()},
                                       {"output_bytes", output.size()},
                                       {"duration_seconds", seconds}});
    res.set_header("X-Image-Width", std::to_string(w));
    res.set_header("X-Image-Height", std::to_string(h));
    res.set_content(std::move(output),
                    *format == imaging::Format::pgm ? "image/x-portable-graymap" : "image/x-portable-pixmap");
  });
  service.route("GET", "/data", [](const httplib::Request &req, httplib::Response &res) {
    demo::simulated_query(req, "SELECT format, count(*) FROM conversions GROUP BY format");
    res.set_content(nlohmann::json{{"formats", {{"ppm", 1}, {"pgm", 1}}}}.dump(), "application/json");
  });
  service.route("GET", "/error", demo::answer_error);

  service.on_start([] {
    // Ready when a tiny conversion works: the only dependency is this code.
    obs::health::add_readiness_check("converter", [] {
      try {
        const auto img = imaging::resize(imaging::decode(imaging::make_test_image(8, 8, 1)), 4, 4);
        return obs::health::CheckResult(img.width == 4, "8x8 -> 4x4 conversion works");
      } catch (const std::exception &e) {
        return obs::health::CheckResult(false, std::string("self-test failed: ") + e.what());
      }
    });
  });
  return service.run();
}
