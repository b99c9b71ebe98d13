// Fields at the call site (Field) and as copied into a record (OwnedField):
// every array kind the constructors take, and the value bound.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "obs/fields.hpp"

namespace {

using obs::Field;
using obs::FieldType;
using obs::OwnedField;

static_assert(sizeof(Field) == 40, "a Field stays small: below-level calls still build them");

std::vector<std::string> strings_of(const Field& f) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < f.array_size(); ++i) out.emplace_back(f.string_at(i));
  return out;
}

TEST(Fields, StringArraysFromEveryContainer) {
  const std::vector<std::string> owned = {"a", "b"};
  const std::array<std::string_view, 2> views = {"c", "d"};
  const char* cstrings[] = {"e", nullptr};
  for (const Field& f : {Field("k", owned), Field("k", views), Field("k", cstrings), Field("k", {"x", "y"})})
    EXPECT_EQ(f.type(), FieldType::StringArray);
  EXPECT_EQ(strings_of(Field("k", owned)), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(strings_of(Field("k", views)), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(strings_of(Field("k", cstrings)), (std::vector<std::string>{"e", "(null)"}));  // as for one const char*
  EXPECT_EQ(strings_of(Field("k", std::span<const std::string>(owned))), (std::vector<std::string>{"a", "b"}));
}

TEST(Fields, IntegerArraysOfEveryWidthReadAsInt64) {
  const std::vector<std::int16_t> i16 = {-32768, 7};
  const std::array<std::uint16_t, 1> u16 = {65535};
  const std::vector<int> i32 = {-1, 2147483647};
  const std::vector<unsigned> u32 = {4294967295u};
  const long long i64[] = {std::numeric_limits<long long>::min()};
  const std::vector<std::size_t> u64 = {42};
  EXPECT_EQ(Field("k", i16).int_at(0), -32768);
  EXPECT_EQ(Field("k", u16).int_at(0), 65535);
  EXPECT_EQ(Field("k", i32).int_at(1), 2147483647);
  EXPECT_EQ(Field("k", u32).int_at(0), 4294967295);
  EXPECT_EQ(Field("k", i64).int_at(0), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(Field("k", u64).type(), FieldType::IntArray);
  EXPECT_EQ(Field("k", u64).int_at(0), 42);
  // A brace list lives until the end of its statement, so the Field is read there.
  const auto check_braced = [](const Field& braced) {
    EXPECT_EQ(braced.type(), FieldType::IntArray);
    EXPECT_EQ(braced.array_size(), 3u);
    EXPECT_EQ(braced.int_at(2), 3);
  };
  check_braced(Field("k", {1, 2, 3}));
}

TEST(Fields, UnsignedArrayBeyondInt64KeepsMagnitudesAsDoubles) {
  // As a single unsigned value does: never wrapped to a negative number.
  const std::vector<std::uint64_t> big = {1, std::numeric_limits<std::uint64_t>::max()};
  const Field f("k", big);
  EXPECT_EQ(f.type(), FieldType::DoubleArray);
  EXPECT_EQ(f.double_at(0), 1.0);
  EXPECT_EQ(f.double_at(1), 18446744073709551615.0);
}

TEST(Fields, DoubleAndBoolArrays) {
  const std::vector<float> floats = {0.5f};
  const std::array<bool, 3> bools = {true, false, true};
  EXPECT_EQ(Field("k", floats).type(), FieldType::DoubleArray);
  EXPECT_EQ(Field("k", floats).double_at(0), 0.5);
  EXPECT_EQ(Field("k", {1.5, 2.5}).double_at(1), 2.5);
  EXPECT_EQ(Field("k", bools).type(), FieldType::BoolArray);
  EXPECT_TRUE(Field("k", bools).bool_at(2));
  EXPECT_FALSE(Field("k", bools).bool_at(1));
  EXPECT_EQ(Field("k", {true, false}).type(), FieldType::BoolArray);
}

TEST(Fields, BracesMakeAnArrayEvenAroundOneString) {
  const auto check = [](const Field& f, FieldType type) { EXPECT_EQ(f.type(), type); };
  check(Field("k", {"abc"}), FieldType::StringArray);
  check(Field("k", "abc"), FieldType::String);
  // Wide and UTF-16/32 text is neither a string nor an integer array: it does not compile.
  static_assert(!std::is_constructible_v<Field, std::string_view, std::wstring>);
  static_assert(!std::is_constructible_v<Field, std::string_view, std::u16string>);
  static_assert(!std::is_constructible_v<Field, std::string_view, const char32_t (&)[3]>);
}

TEST(Fields, AccessorsOfAnotherTypeOrOutOfRangeAnswerZero) {
  const std::vector<int> ints = {5};
  const Field f("k", ints);
  EXPECT_EQ(f.int_at(1), 0);
  EXPECT_EQ(f.double_at(0), 0.0);
  EXPECT_EQ(f.string_at(0), "");
  EXPECT_FALSE(f.bool_at(0));
  EXPECT_EQ(f.as_int(), 0);
  EXPECT_EQ(Field("k", 5).array_size(), 0u);
  // A string stays one string, not an array of characters.
  EXPECT_EQ(Field("k", std::string("abc")).type(), FieldType::String);
  EXPECT_EQ(Field("k", std::string_view("abc")).type(), FieldType::String);
}

TEST(Fields, OwnedFieldCopiesEveryArrayKind) {
  OwnedField o;
  const std::vector<std::string> s = {"a", "b"};
  EXPECT_TRUE(o.assign(Field("tags", s), 1024));
  EXPECT_EQ(o.type, FieldType::StringArray);
  EXPECT_EQ(o.strings, s);
  EXPECT_TRUE(o.assign(Field("ids", {4, 5}), 1024));
  EXPECT_EQ(o.key, "ids");
  EXPECT_EQ(o.ints, (std::vector<std::int64_t>{4, 5}));
  EXPECT_TRUE(o.assign(Field("r", {0.25}), 1024));
  EXPECT_EQ(o.doubles, (std::vector<double>{0.25}));
  EXPECT_TRUE(o.assign(Field("b", {false, true}), 1024));
  EXPECT_EQ(o.bools, (std::vector<bool>{false, true}));
  EXPECT_TRUE(o.assign(Field("empty", std::vector<int>{}), 1024));
  EXPECT_EQ(o.type, FieldType::IntArray);
  EXPECT_TRUE(o.ints.empty());
}

TEST(Fields, BoundKeepsTheElementsThatFitAndCutsAtACharacter) {
  OwnedField o;
  const std::vector<int> many(100, 1);
  EXPECT_FALSE(o.assign(Field("k", many), 80));  // 8 bytes an integer
  EXPECT_EQ(o.ints.size(), 10u);
  EXPECT_TRUE(o.assign(Field("k", many), 800));
  EXPECT_EQ(o.ints.size(), 100u);

  // "é" is 2 bytes: a 5-byte bound keeps "ab" and the "é" whole only if it fits.
  const std::vector<std::string> s = {"ab", "\xC3\xA9\xC3\xA9", "zz"};
  EXPECT_FALSE(o.assign(Field("k", s), 5));
  EXPECT_EQ(o.strings, (std::vector<std::string>{"ab", "\xC3\xA9"}));
  EXPECT_FALSE(o.assign(Field("k", s), 6));  // "zz" is left out, not cut to ""
  EXPECT_EQ(o.strings, (std::vector<std::string>{"ab", "\xC3\xA9\xC3\xA9"}));
  EXPECT_FALSE(o.assign(Field("k", s), 3));
  EXPECT_EQ(o.strings, (std::vector<std::string>{"ab"}));  // the character is not split, and no "" is made up
  EXPECT_FALSE(o.assign(Field("k", std::string_view("x\xC3\xA9")), 2));
  EXPECT_EQ(o.str, "x");
  EXPECT_TRUE(o.assign(Field("k", s)));  // unbounded
  EXPECT_EQ(o.strings, s);
}

}  // namespace
