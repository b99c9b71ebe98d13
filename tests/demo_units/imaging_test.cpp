// demo::imaging: decode/encode round trips, header parsing, every
// DecodeError case, resize correctness, conversions, test images.
#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <string>

#include "imaging.hpp"

namespace img = demo::imaging;
using img::DecodeError;
using img::Format;
using img::Image;

namespace {

Image make(int w, int h, int c, std::vector<std::uint8_t> px) {
  Image i;
  i.width = w;
  i.height = h;
  i.channels = c;
  i.pixels = std::move(px);
  return i;
}

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

// Expects decode() to throw a DecodeError whose message contains `needle`.
void expect_decode_error(const std::string& input, const std::string& needle) {
  try {
    img::decode(input);
    ADD_FAILURE() << "no DecodeError for input starting " << testing::PrintToString(input.substr(0, 40));
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' lacks '" << needle << "'";
  }
}

}  // namespace

TEST(ImagingDecode, P6RoundTrip) {
  const Image in = make(3, 2, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 250, 251, 252, 0, 128, 255});
  const std::string encoded = img::encode(in, Format::ppm);
  EXPECT_EQ(encoded.substr(0, 11), "P6\n3 2\n255\n");
  EXPECT_EQ(encoded.size(), 11u + 18u);
  const Image out = img::decode(encoded);
  EXPECT_EQ(out.width, 3);
  EXPECT_EQ(out.height, 2);
  EXPECT_EQ(out.channels, 3);
  EXPECT_EQ(out.pixels, in.pixels);
}

TEST(ImagingDecode, P5RoundTrip) {
  const Image in = make(2, 3, 1, {0, 17, 34, 200, 254, 255});
  const std::string encoded = img::encode(in, Format::pgm);
  EXPECT_EQ(encoded.substr(0, 11), "P5\n2 3\n255\n");
  const Image out = img::decode(encoded);
  EXPECT_EQ(out.width, 2);
  EXPECT_EQ(out.height, 3);
  EXPECT_EQ(out.channels, 1);
  EXPECT_EQ(out.pixels, in.pixels);
}

TEST(ImagingDecode, CommentsAndOddWhitespaceInHeader) {
  const std::string data = bytes({10, 20, 30, 40});
  const Image a = img::decode("P5 # a comment right after the magic\n# another\n2\t# width\n 2 #height\n\r255\n" + data);
  EXPECT_EQ(a.width, 2);
  EXPECT_EQ(a.height, 2);
  EXPECT_EQ(a.pixels, (std::vector<std::uint8_t>{10, 20, 30, 40}));
  // A comment directly after the magic (no whitespace) counts as a separator.
  const Image b = img::decode("P5#c\n2 2 255 " + data);
  EXPECT_EQ(b.pixels, a.pixels);
  // The single whitespace after maxval may be CR; a byte that looks like a
  // comment or whitespace after it is pixel data.
  const Image c = img::decode("P5\n2 1\n255\r" + bytes({'#', ' '}));
  EXPECT_EQ(c.pixels, (std::vector<std::uint8_t>{'#', ' '}));
}

TEST(ImagingDecode, TrailingBytesIgnored) {
  const Image out = img::decode("P5\n1 1\n255\n" + bytes({7, 8, 9}));
  EXPECT_EQ(out.pixels, (std::vector<std::uint8_t>{7}));
}

TEST(ImagingDecode, MaxvalBelow255IsScaled) {
  const Image a = img::decode("P5\n4 1\n15\n" + bytes({0, 1, 8, 15}));
  EXPECT_EQ(a.pixels, (std::vector<std::uint8_t>{0, 17, 136, 255}));
  const Image b = img::decode("P6\n1 1\n1\n" + bytes({0, 1, 1}));
  EXPECT_EQ(b.pixels, (std::vector<std::uint8_t>{0, 255, 255}));
  const Image c = img::decode("P5\n3 1\n100\n" + bytes({0, 50, 100}));
  EXPECT_EQ(c.pixels, (std::vector<std::uint8_t>{0, 128, 255}));  // 50*255/100 = 127.5 -> 128
}

TEST(ImagingDecode, BadMagic) {
  expect_decode_error("", "bad magic");
  expect_decode_error("P", "bad magic");
  expect_decode_error("P3\n1 1\n255\n0 0 0\n", "bad magic");  // ASCII PPM not supported
  expect_decode_error("P4\n1 1\n\x01", "bad magic");
  expect_decode_error("\x89PNG\r\n\x1a\n", "bad magic");
  expect_decode_error("not an image", "bad magic");
}

TEST(ImagingDecode, TruncatedHeader) {
  expect_decode_error("P6", "truncated header: missing width");
  expect_decode_error("P6\n", "truncated header: missing width");
  expect_decode_error("P6\n# only a comment", "truncated header: missing width");
  expect_decode_error("P6\n10", "truncated header: missing height");
  expect_decode_error("P6\n10 10 ", "truncated header: missing maxval");
  expect_decode_error("P6\n10 10 255", "truncated pixel data");
}

TEST(ImagingDecode, MalformedHeader) {
  expect_decode_error("P6x 1 1 255\n", "malformed header");
  expect_decode_error("P61 1 255\n", "malformed header");  // no whitespace after magic
  expect_decode_error("P6\n-1 1 255\n", "width is not a decimal number");
  expect_decode_error("P6\n1 abc 255\n", "height is not a decimal number");
  expect_decode_error("P6\n1 1 25x\n", "unexpected character after maxval");
  expect_decode_error("P6\n1 1 2.5\n", "malformed header");
}

TEST(ImagingDecode, TruncatedPixelData) {
  expect_decode_error("P6\n2 2\n255\n" + std::string(11, '\0'), "truncated pixel data: expected 12 bytes, got 11");
  expect_decode_error("P5\n2 2\n255\n", "truncated pixel data: expected 4 bytes, got 0");
  expect_decode_error("P5\n2 2\n255\n" + std::string(3, 'a'), "got 3");
  // Exactly enough is fine.
  EXPECT_NO_THROW(img::decode("P5\n2 2\n255\n" + std::string(4, 'a')));
}

TEST(ImagingDecode, DimensionsOverLimits) {
  expect_decode_error("P6\n0 10\n255\n", "must be positive");
  expect_decode_error("P6\n10 0\n255\n", "must be positive");
  expect_decode_error("P6\n8193 1\n255\n", "width 8193 exceeds the limit 8192");
  expect_decode_error("P6\n1 8193\n255\n", "height 8193 exceeds the limit 8192");
  expect_decode_error("P6\n8192 4097\n255\n", "over the limit 16777216");
  // Absurd header values must not overflow into something that looks valid.
  expect_decode_error("P6\n99999999999999999999999999 1\n255\n", "width over 999999999");
  expect_decode_error("P5\n1 18446744073709551617\n255\n", "height over 999999999");
  // At the limits the header is fine (and then the data is truncated).
  expect_decode_error("P5\n8192 2048\n255\n", "truncated pixel data: expected 16777216 bytes");
}

TEST(ImagingDecode, Maxval) {
  expect_decode_error("P5\n1 1\n0\n\x00", "unsupported maxval 0");
  expect_decode_error("P5\n1 1\n256\n\x00\x00", "unsupported maxval 256");
  expect_decode_error("P5\n1 1\n65535\n\x00\x00", "16-bit");
  expect_decode_error("P5\n1 1\n123456789012\n\x00", "maxval over 999999999");
  expect_decode_error("P5\n2 1\n15\n" + bytes({3, 16}), "sample value 16 exceeds maxval 15");
}

TEST(ImagingEncode, RgbToGrayUsesBt601Luma) {
  const Image rgb = make(5, 1, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 20, 30});
  const Image gray = img::decode(img::encode(rgb, Format::pgm));
  ASSERT_EQ(gray.channels, 1);
  // 0.299*255 = 76.2, 0.587*255 = 149.7, 0.114*255 = 29.1, white stays 255,
  // 0.299*10 + 0.587*20 + 0.114*30 = 18.15
  EXPECT_EQ(gray.pixels, (std::vector<std::uint8_t>{76, 150, 29, 255, 18}));
}

TEST(ImagingEncode, GrayToRgbReplicates) {
  const Image gray = make(2, 1, 1, {0, 200});
  const std::string ppm = img::encode(gray, Format::ppm);
  EXPECT_EQ(ppm.substr(0, 11), "P6\n2 1\n255\n");
  const Image rgb = img::decode(ppm);
  ASSERT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, (std::vector<std::uint8_t>{0, 0, 0, 200, 200, 200}));
}

TEST(ImagingEncode, RejectsMalformedImages) {
  EXPECT_THROW(img::encode(Image{}, Format::ppm), std::invalid_argument);
  EXPECT_THROW(img::encode(make(2, 2, 3, {1, 2, 3}), Format::ppm), std::invalid_argument);
  EXPECT_THROW(img::encode(make(1, 1, 2, {1, 2}), Format::pgm), std::invalid_argument);
}

TEST(ImagingResize, TwoByTwoToOneIsTheAverage) {
  const Image gray = img::resize(make(2, 2, 1, {0, 10, 20, 30}), 1, 1);
  EXPECT_EQ(gray.pixels, (std::vector<std::uint8_t>{15}));
  const Image rgb = img::resize(make(2, 2, 3, {0, 100, 255, 10, 100, 255, 20, 100, 0, 30, 100, 0}), 1, 1);
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, (std::vector<std::uint8_t>{15, 100, 128}));  // 127.5 rounds up
}

TEST(ImagingResize, FractionalBoxCoverage) {
  // 3 -> 2: each output pixel covers 1.5 input pixels.
  const Image out = img::resize(make(3, 1, 1, {0, 90, 180}), 2, 1);
  // (0*1 + 90*0.5)/1.5 = 30; (90*0.5 + 180*1)/1.5 = 150
  EXPECT_EQ(out.pixels, (std::vector<std::uint8_t>{30, 150}));
}

TEST(ImagingResize, UniformStaysUniform) {
  for (auto [sw, sh, dw, dh] : {std::array{17, 13, 5, 3}, std::array{7, 5, 31, 23}, std::array{300, 200, 299, 7},
                                std::array{3, 40, 40, 3}}) {
    const Image in = make(sw, sh, 3, std::vector<std::uint8_t>(static_cast<std::size_t>(sw * sh * 3), 173));
    const Image out = img::resize(in, dw, dh);
    EXPECT_EQ(out.width, dw);
    EXPECT_EQ(out.height, dh);
    EXPECT_EQ(out.pixels.size(), static_cast<std::size_t>(dw * dh * 3));
    for (auto v : out.pixels) ASSERT_EQ(v, 173) << sw << "x" << sh << " -> " << dw << "x" << dh;
  }
}

TEST(ImagingResize, SameSizeIsIdentity) {
  const std::string ppm = img::make_test_image(37, 21, 5);
  const Image in = img::decode(ppm);
  EXPECT_EQ(img::resize(in, 37, 21).pixels, in.pixels);
}

TEST(ImagingResize, EnlargeIsBilinear) {
  // 2 -> 4 horizontally: centres at -0.25, 0.25, 0.75, 1.25 (clamped).
  const Image out = img::resize(make(2, 1, 1, {0, 100}), 4, 1);
  EXPECT_EQ(out.pixels, (std::vector<std::uint8_t>{0, 25, 75, 100}));
  // 1x1 -> 3x3 replicates.
  const Image one = img::resize(make(1, 1, 1, {42}), 3, 3);
  EXPECT_EQ(one.pixels, std::vector<std::uint8_t>(9, 42));
  // Enlarging keeps values within the input's range and is monotonic on a ramp.
  const Image ramp = img::resize(make(4, 1, 1, {0, 80, 160, 240}), 13, 2);
  for (int x = 1; x < 13; ++x) EXPECT_LE(ramp.pixels[static_cast<std::size_t>(x - 1)], ramp.pixels[static_cast<std::size_t>(x)]);
  EXPECT_EQ(ramp.pixels[0], 0);
  EXPECT_EQ(ramp.pixels[12], 240);
}

TEST(ImagingResize, MixedShrinkAndEnlarge) {
  // 4x1 -> 2x2: shrink x by averaging pairs, enlarge y by replication.
  const Image out = img::resize(make(4, 1, 1, {10, 20, 100, 200}), 2, 2);
  EXPECT_EQ(out.pixels, (std::vector<std::uint8_t>{15, 150, 15, 150}));
}

TEST(ImagingResize, RejectsBadSizes) {
  const Image in = make(2, 2, 1, {0, 1, 2, 3});
  EXPECT_THROW(img::resize(in, 0, 1), std::invalid_argument);
  EXPECT_THROW(img::resize(in, 1, -5), std::invalid_argument);
  EXPECT_THROW(img::resize(in, img::kMaxDimension + 1, 1), std::invalid_argument);
  EXPECT_THROW(img::resize(in, 8192, 8192), std::invalid_argument);  // over kMaxPixels
  EXPECT_THROW(img::resize(make(2, 2, 1, {0}), 1, 1), std::invalid_argument);
  EXPECT_NO_THROW(img::resize(in, 8192, 2048));
}

TEST(ImagingResize, LargeShrinkIsFast) {
  const Image big = img::decode(img::make_test_image(2048, 1536, 1));
  const auto start = std::chrono::steady_clock::now();
  const Image small = img::resize(big, 256, 192);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(small.width, 256);
  EXPECT_EQ(small.height, 192);
  // Generous for slow CI and sanitizer builds; typically a few ms optimized.
  EXPECT_LT(ms, 2000);
  RecordProperty("resize_ms", std::to_string(ms));
  // An 8x box average of the image has the same mean as the image (within rounding).
  auto mean = [](const Image& i) {
    return std::accumulate(i.pixels.begin(), i.pixels.end(), 0.0) / static_cast<double>(i.pixels.size());
  };
  EXPECT_NEAR(mean(small), mean(big), 0.6);
}

TEST(ImagingFormat, Parse) {
  EXPECT_EQ(img::parse_format("ppm"), Format::ppm);
  EXPECT_EQ(img::parse_format("pgm"), Format::pgm);
  EXPECT_EQ(img::parse_format("PGM"), Format::pgm);
  EXPECT_EQ(img::parse_format(""), std::nullopt);
  EXPECT_EQ(img::parse_format("png"), std::nullopt);
  EXPECT_EQ(img::parse_format("ppm "), std::nullopt);
}

TEST(ImagingTestImage, DeterministicPerSeed) {
  const std::string a = img::make_test_image(64, 48, 7);
  EXPECT_EQ(a, img::make_test_image(64, 48, 7));
  EXPECT_NE(a, img::make_test_image(64, 48, 8));
  EXPECT_EQ(a.substr(0, 12), "P6\n64 48\n255");
  const Image i = img::decode(a);
  EXPECT_EQ(i.width, 64);
  EXPECT_EQ(i.height, 48);
  EXPECT_EQ(i.channels, 3);
  // A pattern, not a flat image: many distinct values per channel.
  std::array<bool, 256> seen{};
  for (std::size_t k = 0; k < i.pixels.size(); k += 3) seen[i.pixels[k]] = true;
  EXPECT_GT(std::count(seen.begin(), seen.end(), true), 50);
  EXPECT_THROW(img::make_test_image(0, 10, 1), std::invalid_argument);
  EXPECT_THROW(img::make_test_image(10, img::kMaxDimension + 1, 1), std::invalid_argument);
  EXPECT_NO_THROW(img::make_test_image(1, 1, 0));
}
