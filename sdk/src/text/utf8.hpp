#pragma once
// UTF-8 validation and repair (internal; a leaf: imports nothing of obs). Protobuf
// `string` fields must hold well-formed UTF-8 (libprotobuf rejects a message
// otherwise) and so must JSON text, but the SDK's strings are whatever the
// application passed. Ill-formed input is repaired by replacing each maximal
// ill-formed subpart with U+FFFD, as Unicode (ch. 3, "U+FFFD Substitution of
// Maximal Subparts") and the WHATWG decoder do, so every encoder and every
// decoder that follows that practice sees the same text.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace obs::text {

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// One step through a string: a well-formed character (1 to 4 bytes), or the
// ill-formed bytes that one U+FFFD stands for (1 to 3 bytes).
struct Utf8Step {
  std::size_t length;
  bool valid;
};

// The step starting at s[i] (i < s.size()).
inline Utf8Step utf8_step(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return {1, true};
  std::size_t need;  // continuation bytes after the lead
  // The second byte's range is narrowed for some leads, which is how
  // overlong forms, surrogates and code points above U+10FFFF are refused.
  unsigned char second_lo = 0x80, second_hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) second_lo = 0xA0;  // overlong
    if (lead == 0xED) second_hi = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) second_lo = 0x90;  // overlong
    if (lead == 0xF4) second_hi = 0x8F;  // beyond U+10FFFF
  } else {
    return {1, false};  // a stray continuation byte, C0, C1 or F5..FF
  }
  // The maximal subpart ends at the first byte that cannot continue it.
  std::size_t len = 1;
  for (std::size_t k = 0; k < need; ++k, ++len) {
    if (i + len >= s.size()) return {len, false};  // truncated
    const unsigned char c = byte(i + len);
    const unsigned char lo = k == 0 ? second_lo : 0x80, hi = k == 0 ? second_hi : 0xBF;
    if (c < lo || c > hi) return {len, false};
  }
  return {len, true};
}

// Index of the first ill-formed byte of s, or npos if s is well-formed.
inline std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Most strings are ASCII: skip eight bytes at a time while no high bit is set.
    while (i + 8 <= s.size()) {
      std::uint64_t block;
      std::memcpy(&block, s.data() + i, 8);
      if (block & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const Utf8Step step = utf8_step(s, i);
    if (!step.valid) return i;
    i += step.length;
  }
  return std::string_view::npos;
}

inline bool is_valid_utf8(std::string_view s) { return find_invalid_utf8(s) == std::string_view::npos; }

// Appends s to out with each ill-formed subpart replaced by U+FFFD.
inline void append_utf8_repaired(std::string& out, std::string_view s) {
  std::size_t i = find_invalid_utf8(s);
  if (i == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.append(s.substr(0, i));
  while (i < s.size()) {
    const Utf8Step step = utf8_step(s, i);
    if (step.valid) out.append(s.substr(i, step.length));
    else out.append(kReplacementCharacter);
    i += step.length;
  }
}

// The longest prefix of `s` of at most `n` bytes that does not split a
// UTF-8 sequence. A sequence is at most 4 bytes: it steps back over at most
// 3 continuation bytes (more means the text is not UTF-8, and the encoders
// repair it).
inline std::string_view utf8_prefix(std::string_view s, std::size_t n) {
  if (n >= s.size()) return s;
  for (int i = 0; i < 3 && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80; ++i) --n;
  return s.substr(0, n);
}

}  // namespace obs::text
