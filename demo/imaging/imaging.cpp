// demo::imaging implementation. See imaging.hpp for the contract.
#include "imaging.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>

namespace demo::imaging {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads the header of a Netpbm file: whitespace-separated decimal fields,
// with '#' comments running to the end of the line.
class HeaderReader {
 public:
  explicit HeaderReader(std::string_view bytes) : bytes_(bytes) {}

  std::size_t pos() const { return pos_; }
  void advance(std::size_t n) { pos_ += n; }

  // Skips whitespace and comments before a field. Fields must be separated
  // from what precedes them by at least one whitespace character (a comment
  // counts as whitespace).
  void skip_separator(const char* field) {
    bool separated = false;
    while (pos_ < bytes_.size()) {
      const char c = bytes_[pos_];
      if (is_space(c)) {
        separated = true;
        ++pos_;
      } else if (c == '#') {
        separated = true;
        while (pos_ < bytes_.size() && bytes_[pos_] != '\n' && bytes_[pos_] != '\r') ++pos_;
      } else {
        break;
      }
    }
    if (pos_ >= bytes_.size()) throw DecodeError(std::string("truncated header: missing ") + field);
    if (!separated)
      throw DecodeError(std::string("malformed header: no whitespace before ") + field);
  }

  // Reads one unsigned decimal field. Values above `cap` are reported as
  // cap + 1 (so a 30-digit width reads as "over the limit", never overflows).
  std::int64_t number(const char* field, std::int64_t cap) {
    skip_separator(field);
    if (!is_digit(bytes_[pos_]))
      throw DecodeError(std::string("malformed header: ") + field + " is not a decimal number");
    std::int64_t value = 0;
    while (pos_ < bytes_.size() && is_digit(bytes_[pos_])) {
      if (value <= cap) value = value * 10 + (bytes_[pos_] - '0');
      ++pos_;
    }
    if (pos_ < bytes_.size() && !is_space(bytes_[pos_]) && bytes_[pos_] != '#')
      throw DecodeError(std::string("malformed header: unexpected character after ") + field);
    return std::min(value, cap + 1);
  }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

void check_size(int width, int height, const char* what) {
  if (width <= 0 || height <= 0)
    throw std::invalid_argument(std::string(what) + ": size " + std::to_string(width) + "x" +
                                std::to_string(height) + " is not positive");
  if (width > kMaxDimension || height > kMaxDimension)
    throw std::invalid_argument(std::string(what) + ": size " + std::to_string(width) + "x" +
                                std::to_string(height) + " exceeds the per-side limit " +
                                std::to_string(kMaxDimension));
  if (static_cast<std::int64_t>(width) * height > kMaxPixels)
    throw std::invalid_argument(std::string(what) + ": size " + std::to_string(width) + "x" +
                                std::to_string(height) + " exceeds the pixel limit " + std::to_string(kMaxPixels));
}

void check_image(const Image& image, const char* what) {
  if (image.channels != 1 && image.channels != 3)
    throw std::invalid_argument(std::string(what) + ": image has " + std::to_string(image.channels) +
                                " channels (expected 1 or 3)");
  check_size(image.width, image.height, what);
  const auto expected = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) *
                        static_cast<std::size_t>(image.channels);
  if (image.pixels.size() != expected)
    throw std::invalid_argument(std::string(what) + ": image has " + std::to_string(image.pixels.size()) +
                                " pixel bytes, expected " + std::to_string(expected));
}

// BT.601 luma in integer arithmetic, rounded to nearest.
inline std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((299u * r + 587u * g + 114u * b + 500u) / 1000u);
}

// The source samples contributing to each destination sample along one
// axis, with weights summing to 1.
struct Taps {
  std::vector<std::uint32_t> begin;  // dst + 1 offsets into index/weight
  std::vector<int> index;
  std::vector<float> weight;
};

Taps make_taps(int src, int dst) {
  Taps taps;
  taps.begin.reserve(static_cast<std::size_t>(dst) + 1);
  const double scale = static_cast<double>(src) / dst;
  taps.begin.push_back(0);
  for (int i = 0; i < dst; ++i) {
    const std::size_t first = taps.index.size();
    if (dst <= src) {
      // Shrinking (or same size): average the source interval this pixel
      // covers, weighting partial source pixels by their coverage.
      const double lo = i * scale, hi = (i + 1) * scale;
      const int j0 = static_cast<int>(std::floor(lo));
      const int j1 = std::min(src, static_cast<int>(std::ceil(hi)));
      for (int j = j0; j < j1; ++j) {
        const double overlap = std::min(hi, j + 1.0) - std::max(lo, static_cast<double>(j));
        if (overlap > 1e-9) {
          taps.index.push_back(j);
          taps.weight.push_back(static_cast<float>(overlap));
        }
      }
    } else {
      // Enlarging: bilinear between the two nearest source centres.
      double x = (i + 0.5) * scale - 0.5;
      x = std::clamp(x, 0.0, static_cast<double>(src - 1));
      const int j0 = static_cast<int>(std::floor(x));
      const int j1 = std::min(j0 + 1, src - 1);
      const double f = x - j0;
      taps.index.push_back(j0);
      taps.weight.push_back(static_cast<float>(1 - f));
      if (j1 != j0 && f > 0) {
        taps.index.push_back(j1);
        taps.weight.push_back(static_cast<float>(f));
      }
    }
    float sum = 0;
    for (std::size_t k = first; k < taps.weight.size(); ++k) sum += taps.weight[k];
    for (std::size_t k = first; k < taps.weight.size(); ++k) taps.weight[k] /= sum;
    taps.begin.push_back(static_cast<std::uint32_t>(taps.index.size()));
  }
  return taps;
}

inline std::uint8_t to_sample(float v) {
  if (v <= 0) return 0;
  if (v >= 255) return 255;
  return static_cast<std::uint8_t>(v + 0.5f);
}

// Small deterministic generator (same output on every platform, unlike
// std:: distributions).
class Noise {
 public:
  explicit Noise(std::uint32_t seed) : state_(0x9E3779B97F4A7C15ull ^ (static_cast<std::uint64_t>(seed) * 0xBF58476D1CE4E5B9ull)) {}
  std::uint32_t next() {
    // splitmix64
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
  }

 private:
  std::uint64_t state_;
};

}  // namespace

Image decode(std::string_view bytes) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '6' && bytes[1] != '5'))
    throw DecodeError("bad magic: expected \"P6\" (binary PPM) or \"P5\" (binary PGM)");
  const int channels = bytes[1] == '6' ? 3 : 1;
  HeaderReader header(bytes);
  header.advance(2);
  constexpr std::int64_t kCap = 999'999'999;  // larger header values are reported as "over 999999999"
  const std::int64_t width = header.number("width", kCap);
  const std::int64_t height = header.number("height", kCap);
  const std::int64_t maxval = header.number("maxval", kCap);
  auto show = [](std::int64_t v) { return v > kCap ? "over " + std::to_string(kCap) : std::to_string(v); };
  if (width == 0 || height == 0)
    throw DecodeError("invalid dimensions " + show(width) + "x" + show(height) + ": width and height must be positive");
  if (width > kMaxDimension)
    throw DecodeError("width " + show(width) + " exceeds the limit " + std::to_string(kMaxDimension));
  if (height > kMaxDimension)
    throw DecodeError("height " + show(height) + " exceeds the limit " + std::to_string(kMaxDimension));
  if (width * height > kMaxPixels)
    throw DecodeError("image " + show(width) + "x" + show(height) + " has " + std::to_string(width * height) +
                      " pixels, over the limit " + std::to_string(kMaxPixels));
  if (maxval < 1 || maxval > 255)
    throw DecodeError("unsupported maxval " + show(maxval) + " (must be 1..255; 16-bit samples are not supported)");
  // Exactly one whitespace character separates maxval from the samples
  // (HeaderReader::number stopped on whitespace, a comment or the end).
  if (header.pos() >= bytes.size())
    throw DecodeError("truncated pixel data: no data after the header");
  if (!is_space(bytes[header.pos()]))
    throw DecodeError("malformed header: expected a single whitespace character after maxval");
  header.advance(1);

  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.channels = channels;
  const std::size_t need = static_cast<std::size_t>(width * height * channels);
  const std::size_t have = bytes.size() - header.pos();
  if (have < need)
    throw DecodeError("truncated pixel data: expected " + std::to_string(need) + " bytes, got " +
                      std::to_string(have));
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data() + header.pos());
  if (maxval == 255) {
    image.pixels.assign(data, data + need);
    return image;
  }
  std::array<std::uint8_t, 256> scale{};
  for (int v = 0; v <= maxval; ++v) scale[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>((v * 255 + maxval / 2) / maxval);
  image.pixels.resize(need);
  for (std::size_t i = 0; i < need; ++i) {
    if (data[i] > maxval)
      throw DecodeError("sample value " + std::to_string(data[i]) + " exceeds maxval " + std::to_string(maxval));
    image.pixels[i] = scale[data[i]];
  }
  return image;
}

std::string encode(const Image& image, Format format) {
  check_image(image, "encode");
  const int out_channels = format == Format::ppm ? 3 : 1;
  char header[64];
  const int n = std::snprintf(header, sizeof header, "%s\n%d %d\n255\n", format == Format::ppm ? "P6" : "P5",
                              image.width, image.height);
  const std::size_t count = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height);
  std::string out;
  out.reserve(static_cast<std::size_t>(n) + count * static_cast<std::size_t>(out_channels));
  out.append(header, static_cast<std::size_t>(n));
  const std::size_t data_at = out.size();
  out.resize(data_at + count * static_cast<std::size_t>(out_channels));
  auto* dst = reinterpret_cast<std::uint8_t*>(out.data() + data_at);
  const std::uint8_t* src = image.pixels.data();
  if (image.channels == out_channels) {
    std::copy(src, src + count * static_cast<std::size_t>(out_channels), dst);
  } else if (out_channels == 1) {
    for (std::size_t i = 0; i < count; ++i, src += 3) dst[i] = luma(src[0], src[1], src[2]);
  } else {
    for (std::size_t i = 0; i < count; ++i, dst += 3) dst[0] = dst[1] = dst[2] = src[i];
  }
  return out;
}

Image resize(const Image& image, int width, int height) {
  check_size(width, height, "resize");
  check_image(image, "resize");
  const int c = image.channels;
  const Taps xs = make_taps(image.width, width);
  const Taps ys = make_taps(image.height, height);
  Image out;
  out.width = width;
  out.height = height;
  out.channels = c;
  out.pixels.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * static_cast<std::size_t>(c));

  // One destination row at a time: blend the contributing source rows
  // (vertical pass) into `row`, then resample `row` horizontally.
  const std::size_t src_stride = static_cast<std::size_t>(image.width) * static_cast<std::size_t>(c);
  std::vector<float> row(src_stride);
  std::uint8_t* dst = out.pixels.data();
  for (int y = 0; y < height; ++y) {
    std::fill(row.begin(), row.end(), 0.0f);
    for (std::uint32_t t = ys.begin[static_cast<std::size_t>(y)]; t < ys.begin[static_cast<std::size_t>(y) + 1]; ++t) {
      const float w = ys.weight[t];
      const std::uint8_t* s = image.pixels.data() + static_cast<std::size_t>(ys.index[t]) * src_stride;
      for (std::size_t k = 0; k < src_stride; ++k) row[k] += w * static_cast<float>(s[k]);
    }
    for (int x = 0; x < width; ++x) {
      const std::uint32_t t0 = xs.begin[static_cast<std::size_t>(x)], t1 = xs.begin[static_cast<std::size_t>(x) + 1];
      if (c == 3) {
        float r = 0, g = 0, b = 0;
        for (std::uint32_t t = t0; t < t1; ++t) {
          const float w = xs.weight[t];
          const float* p = row.data() + static_cast<std::size_t>(xs.index[t]) * 3;
          r += w * p[0];
          g += w * p[1];
          b += w * p[2];
        }
        *dst++ = to_sample(r);
        *dst++ = to_sample(g);
        *dst++ = to_sample(b);
      } else {
        float v = 0;
        for (std::uint32_t t = t0; t < t1; ++t) v += xs.weight[t] * row[static_cast<std::size_t>(xs.index[t])];
        *dst++ = to_sample(v);
      }
    }
  }
  return out;
}

std::optional<Format> parse_format(std::string_view name) {
  auto equals = [&](std::string_view want) {
    return name.size() == want.size() && std::equal(name.begin(), name.end(), want.begin(), [](char a, char b) {
             return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
           });
  };
  if (equals("ppm")) return Format::ppm;
  if (equals("pgm")) return Format::pgm;
  return std::nullopt;
}

std::string make_test_image(int width, int height, std::uint32_t seed) {
  check_size(width, height, "make_test_image");
  // Written straight into the encoded P6 (no intermediate Image to copy).
  char header[64];
  const int header_size = std::snprintf(header, sizeof header, "P6\n%d %d\n255\n", width, height);
  std::string out(static_cast<std::size_t>(header_size) +
                      static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3,
                  '\0');
  std::copy(header, header + header_size, out.begin());
  Noise noise(seed);
  // Seed-dependent placement of the ring centre and checker phase, so
  // different seeds differ in structure as well as in noise.
  const double cx = width * (0.3 + 0.4 * (noise.next() % 1000) / 1000.0);
  const double cy = height * (0.3 + 0.4 * (noise.next() % 1000) / 1000.0);
  const int cell = std::max(4, std::min(width, height) / 8);
  const int phase = static_cast<int>(noise.next() % 2);
  const double ring_period = std::max(8.0, std::min(width, height) / 6.0);
  auto* p = reinterpret_cast<std::uint8_t*>(out.data() + header_size);
  for (int y = 0; y < height; ++y) {
    const double fy = (y + 0.5) / height;
    for (int x = 0; x < width; ++x) {
      const double fx = (x + 0.5) / width;
      const double dx = x - cx, dy = y - cy;
      const double rings = std::sqrt(dx * dx + dy * dy) / ring_period;
      const double saw = rings - std::floor(rings);
      const double ring = 1.0 - std::abs(2.0 * saw - 1.0);  // triangle wave 0..1
      const int checker = (((x / cell) + (y / cell) + phase) % 2) ? 20 : -20;
      const std::uint32_t n = noise.next();
      // About one pixel in four gets visible noise; the rest a little.
      const int amp = (n & 3) == 0 ? 24 : 4;
      auto jitter = [&](int shift) { return static_cast<int>((n >> shift) & 0xFF) * (2 * amp + 1) / 256 - amp; };
      const int r = static_cast<int>(255 * fx) + checker + jitter(8);
      const int g = static_cast<int>(255 * fy) + checker + jitter(16);
      const int b = static_cast<int>(60 + 160 * ring) + jitter(24);
      *p++ = static_cast<std::uint8_t>(std::clamp(r, 0, 255));
      *p++ = static_cast<std::uint8_t>(std::clamp(g, 0, 255));
      *p++ = static_cast<std::uint8_t>(std::clamp(b, 0, 255));
    }
  }
  return out;
}

}  // namespace demo::imaging
