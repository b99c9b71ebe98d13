// demo::imaging — the small image library of the obs demo.
//
// Binary Netpbm images only: PPM (P6, 8-bit RGB) and PGM (P5, 8-bit gray).
// image_svc decodes, resizes, converts and re-encodes with it; job_svc and
// loadgen make their source images with make_test_image().
//
// Include as "imaging.hpp" (target demo_imaging).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace demo::imaging {

enum class Format { ppm, pgm };

// 8-bit samples; channels is 3 (RGB, from/to PPM) or 1 (gray, from/to PGM);
// row-major, channels interleaved: pixels.size() == width * height * channels.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<std::uint8_t> pixels;
};

// Thrown by decode(); what() names the problem ("bad magic", "truncated
// pixel data", "width 9000 exceeds the limit 8192", "maxval 0 ...").
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr int kMaxDimension = 8192;              // per side
constexpr std::int64_t kMaxPixels = 16'777'216;  // width * height

// Decodes a binary PPM (P6) or PGM (P5) with maxval 1..255. Header comments
// ('#' to end of line) are allowed anywhere between header fields. Samples
// are scaled to 0..255 when maxval < 255. Bytes after the pixel data are
// ignored. Throws DecodeError on bad magic, malformed or truncated header,
// zero or over-limit dimensions, maxval outside 1..255, samples above maxval,
// or truncated pixel data.
Image decode(std::string_view bytes);

// Encodes as P6 (Format::ppm) or P5 (Format::pgm) with maxval 255,
// converting RGB -> gray (BT.601 luma: 0.299 R + 0.587 G + 0.114 B) or
// gray -> RGB (R = G = B) as needed. Throws std::invalid_argument when the
// image is malformed (no pixels, channels not 1 or 3, wrong pixel count).
std::string encode(const Image& image, Format format);

// Resizes to width x height, keeping the channel count. Each axis is
// resampled on its own: area averaging (box filter, exact fractional
// coverage) when shrinking, bilinear interpolation (pixel centres aligned)
// when enlarging. Throws std::invalid_argument on a non-positive or
// over-limit size, or a malformed input image.
Image resize(const Image& image, int width, int height);

// "ppm" -> Format::ppm, "pgm" -> Format::pgm (ASCII case-insensitive);
// anything else -> nullopt.
std::optional<Format> parse_format(std::string_view name);

// A PPM (P6) of width x height with a deterministic pattern: colour
// gradients, soft rings and a checker, plus noise seeded by `seed`. Same
// arguments, same bytes. Throws std::invalid_argument on a non-positive or
// over-limit size.
std::string make_test_image(int width, int height, std::uint32_t seed);

}  // namespace demo::imaging
