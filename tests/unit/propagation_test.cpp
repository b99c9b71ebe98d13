// W3C traceparent/tracestate (Trace Context Level 1, the Recommendation,
// and Level 2's random flag), W3C Baggage and x-request-id: table-driven
// checks of the specifications' rules, each case naming the section it
// comes from, round trips, and extract/inject through a plain header map.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "obs/propagation.hpp"
#include "support/numbered.hpp"

namespace {

namespace prop = obs::propagation;

const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kSpan = "00f067aa0ba902b7";

std::string tp(std::string_view version, std::string_view flags, std::string_view rest = "") {
  return std::string(version) + "-" + kTrace + "-" + kSpan + "-" + std::string(flags) + std::string(rest);
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// --- traceparent ------------------------------------------------------------

struct TraceparentCase {
  const char* name;
  std::string header;
  bool valid;
  bool sampled = false;
  bool random = false;  // Level 2's random trace-id flag
};

const std::vector<TraceparentCase>& traceparent_cases() {
  static const std::vector<TraceparentCase> cases = {
      // Valid version 00.
      {"sampled", tp("00", "01"), true, true},
      {"unsampled", tp("00", "00"), true, false},
      {"other flag bits ignored, sampled", tp("00", "09"), true, true},
      {"other flag bits ignored, unsampled", tp("00", "fc"), true, false},
      {"all flags", tp("00", "ff"), true, true, true},
      // Level 2, "Random Trace ID Flag": bit 1 says the trace id is random.
      {"random flag", tp("00", "02"), true, false, true},
      {"random and sampled", tp("00", "03"), true, true, true},
      {"random with undefined bits", tp("00", "fe"), true, false, true},
      {"leading space trimmed", " " + tp("00", "01"), true, true},
      {"leading tab trimmed", "\t" + tp("00", "01"), true, true},
      {"trailing space trimmed", tp("00", "01") + " ", true, true},
      {"trailing tab trimmed", tp("00", "01") + "\t", true, true},
      // Higher versions: parsed as 00 if the flags end the header or are
      // followed by '-'.
      {"future version, 55 chars", tp("cc", "01"), true, true},
      {"future version with extra fields", tp("cc", "01", "-what-the-future-will-be-like"), true, true},
      {"future version, trailing dash", tp("cc", "00", "-"), true, false},
      {"version 01", tp("01", "01"), true, true},
      {"version fe", tp("fe", "00"), true, false},
      {"future version at the 512 cap", tp("cc", "01", "-" + std::string(512 - 56, 'x')), true, true},
      // Version rules.
      {"version ff", tp("ff", "01"), false},
      {"version 00 with extra fields", tp("00", "01", "-what-the-future-will-be-like"), false},
      {"version 00 with trailing char", tp("00", "01", "."), false},
      {"version 00 with trailing dash", tp("00", "01", "-"), false},
      {"future version, flags followed by non-dash", tp("cc", "01", ".what-the-future-will-be-like"), false},
      {"future version, flags too long", tp("cc", "011"), false},
      {"future version, 54 chars", tp("cc", "0"), false},
      {"future version past the 512 cap", tp("cc", "01", "-" + std::string(512 - 55, 'x')), false},
      {"version 1 char", "0-" + kTrace + "-" + kSpan + "-01", false},
      {"version 3 chars", "000-" + kTrace + "-" + kSpan + "-01", false},
      {"version upper case", tp("0A", "01"), false},
      {"future version upper case", tp("CC", "01"), false},
      {"version not hex", tp("0g", "01"), false},
      // Lengths.
      {"empty", "", false},
      {"whitespace only", "   ", false},
      {"trace id 31 chars", "00-" + kTrace.substr(1) + "-" + kSpan + "-01", false},
      {"trace id 33 chars", "00-" + kTrace + "0-" + kSpan + "-01", false},
      {"span id 15 chars", "00-" + kTrace + "-" + kSpan.substr(1) + "-01", false},
      {"span id 17 chars", "00-" + kTrace + "-" + kSpan + "0-01", false},
      {"flags 1 char", tp("00", "1"), false},
      {"flags 3 chars", tp("00", "001"), false},
      {"two headers joined", tp("00", "01") + "," + tp("00", "01"), false},
      // Hex.
      {"trace id upper case", "00-4BF92F3577B34DA6A3CE929D0E0E4736-" + kSpan + "-01", false},
      {"span id upper case", "00-" + kTrace + "-00F067AA0BA902B7-01", false},
      {"flags upper case", tp("00", "0A"), false},
      {"trace id not hex", "00-4bf92f3577b34da6a3ce929d0e0e473g-" + kSpan + "-01", false},
      {"span id not hex", "00-" + kTrace + "-00f067aa0ba902bz-01", false},
      {"flags not hex", tp("00", "0x"), false},
      {"space inside", "00-" + kTrace + "-" + kSpan + " -01", false},
      // All-zero ids.
      {"zero trace id", "00-" + std::string(32, '0') + "-" + kSpan + "-01", false},
      {"zero span id", "00-" + kTrace + "-" + std::string(16, '0') + "-01", false},
      {"future version, zero trace id", "cc-" + std::string(32, '0') + "-" + kSpan + "-01-x", false},
      // Dashes.
      {"first dash missing", "00_" + kTrace + "-" + kSpan + "-01", false},
      {"second dash missing", "00-" + kTrace + "_" + kSpan + "-01", false},
      {"third dash missing", "00-" + kTrace + "-" + kSpan + "_01", false},
      {"no dashes", "00" + kTrace + kSpan + "01", false},
      {"dash moved", "00-" + kTrace.substr(0, 31) + "-" + kTrace.substr(31) + kSpan + "-01", false},
  };
  return cases;
}

TEST(TraceparentParse, SpecCases) {
  for (const auto& c : traceparent_cases()) {
    SCOPED_TRACE(std::string(c.name) + ": \"" + c.header + "\"");
    const auto parsed = prop::parse_traceparent(c.header);
    ASSERT_EQ(parsed.has_value(), c.valid);
    if (!parsed) continue;
    EXPECT_EQ(parsed->trace_id.hex(), kTrace);
    EXPECT_EQ(parsed->span_id.hex(), kSpan);
    EXPECT_EQ(parsed->sampled, c.sampled);
    EXPECT_EQ(parsed->random_trace_id, c.random);
    EXPECT_TRUE(parsed->remote);
    EXPECT_TRUE(parsed->trace_state.empty());
    EXPECT_TRUE(parsed->valid());
  }
}

// "Versioning of traceparent" (write the highest version known, 00) and
// "trace-flags" (undefined flags are written as zero; Level 2 defines bit 1).
TEST(TraceparentFormat, WritesVersion00AndOnlyTheDefinedFlags) {
  for (const auto& c : traceparent_cases()) {
    if (!c.valid) continue;
    SCOPED_TRACE(c.name);
    const auto formatted = prop::format_traceparent(*prop::parse_traceparent(c.header));
    const char flags[] = {'0', static_cast<char>('0' + (c.sampled ? 1 : 0) + (c.random ? 2 : 0)), '\0'};
    EXPECT_EQ(formatted, tp("00", flags));
  }
}

TEST(TraceparentFormat, RoundTripsCanonicalHeaders) {
  for (const std::string& header : std::vector<std::string>{tp("00", "01"), tp("00", "00"),
                                   "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                                   "00-00000000000000000000000000000001-0000000000000001-00",
                                   "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01"}) {
    SCOPED_TRACE(header);
    const auto parsed = prop::parse_traceparent(header);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(prop::format_traceparent(*parsed), header);
  }
}

TEST(TraceparentFormat, InvalidContextFormatsEmpty) {
  obs::SpanContext context;
  EXPECT_EQ(prop::format_traceparent(context), "");
  context.trace_id.bytes[0] = 1;  // span id still zero
  EXPECT_EQ(prop::format_traceparent(context), "");
  context.span_id.bytes[7] = 1;
  EXPECT_EQ(prop::format_traceparent(context), "00-01000000000000000000000000000000-0000000000000001-00");
}

// --- tracestate -------------------------------------------------------------

struct TracestateCase {
  const char* name;
  std::string header;
  std::optional<std::string> expected;  // nullopt: the whole header is discarded
};

// n members "k1=v1,k2=v2,...".
std::string members(std::size_t n, std::string_view separator = ",") {
  std::string out;
  for (std::size_t i = 1; i <= n; ++i) {
    if (i > 1) out += separator;
    out += obs_test::numbered("k", i) + obs_test::numbered("=v", i);
  }
  return out;
}

// n members of 400 characters (a 143-character key "l<i>kkk...", a
// 256-character value).
std::string long_members(std::size_t n) {
  std::string out;
  for (std::size_t i = 1; i <= n; ++i) {
    if (i > 1) out += ',';
    std::string key = obs_test::numbered("l", i);
    key.resize(143, 'k');
    out += key + "=" + std::string(256, 'v');
  }
  return out;
}

// Every allowed value character: 0x20-0x7E except ',' and '=', not ending in a space.
std::string all_value_chars() {
  std::string out;
  for (char c = 0x20; c <= 0x7e; ++c)
    if (c != ',' && c != '=') out += c;
  return out;
}

const std::vector<TracestateCase>& tracestate_cases() {
  static const std::vector<TracestateCase> cases = {
      // Empty headers and members.
      {"empty header", "", ""},
      {"whitespace only", " \t ", ""},
      {"empty members only", ",, , \t,", ""},
      {"single", "rojo=00f067aa0ba902b7", "rojo=00f067aa0ba902b7"},
      {"two", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
      {"OWS around members", " rojo=1 ,\tcongo=2\t", "rojo=1,congo=2"},
      {"OWS after comma", "rojo=1, congo=2", "rojo=1,congo=2"},
      {"empty members dropped", ",rojo=1,,, ,congo=2,", "rojo=1,congo=2"},
      {"leading value space kept", "foo= bar", "foo= bar"},
      {"inner value spaces kept", "foo=a b  c", "foo=a b  c"},
      {"trailing value spaces are OWS", "foo=bar  ", "foo=bar"},
      {"all value characters", "foo=" + all_value_chars(), "foo=" + all_value_chars()},
      // Keys.
      {"key characters", "a0_-*/=v", "a0_-*/=v"},
      {"simple key 256 chars", "a" + std::string(255, 'b') + "=v", "a" + std::string(255, 'b') + "=v"},
      {"simple key 257 chars", "a" + std::string(256, 'b') + "=v", std::nullopt},
      {"multi-tenant key", "fw529a3039@dt=abc", "fw529a3039@dt=abc"},
      {"tenant starting with a digit", "1tenant@sys=1", "1tenant@sys=1"},
      {"tenant 241, system 14", std::string(241, 't') + "@" + std::string(14, 's') + "=v",
       std::string(241, 't') + "@" + std::string(14, 's') + "=v"},
      {"tenant 242", std::string(242, 't') + "@s=v", std::nullopt},
      {"system 15", "t@" + std::string(15, 's') + "=v", std::nullopt},
      {"system with key chars", "t@s0_-*/=v", "t@s0_-*/=v"},
      {"empty system", "foo@=1,bar=2", std::nullopt},
      {"empty tenant", "@foo=1,bar=2", std::nullopt},
      {"two @ in a row", "foo@@bar=1,bar=2", std::nullopt},
      {"two @", "foo@bar@baz=1,bar=2", std::nullopt},
      {"system starting with a digit", "foo@1bar=1", std::nullopt},
      {"tenant starting with _", "_foo@bar=1", std::nullopt},
      {"simple key starting with a digit", "1foo=bar", std::nullopt},
      {"simple key starting with _", "_foo=bar", std::nullopt},
      {"upper-case key", "Foo=bar", std::nullopt},
      {"empty key", "=bar", std::nullopt},
      {"space in key", "foo bar=baz", std::nullopt},
      {"space before =", "foo =bar", std::nullopt},
      {"key with dot", "foo.bar=baz", std::nullopt},
      // Values.
      {"no =", "foo", std::nullopt},
      {"empty value", "foo=", std::nullopt},
      {"empty value then valid", "foo=,bar=3", std::nullopt},
      {"whitespace-only value", "foo=  ", std::nullopt},
      {"= in value", "foo=bar=baz", std::nullopt},
      {"tab in value", "foo=bar\tbaz", std::nullopt},
      {"DEL in value", "foo=bar\x7f", std::nullopt},
      {"CR LF in value", "foo=bar\r\nx-evil: 1", std::nullopt},
      {"non-ASCII in value", "foo=caf\xc3\xa9", std::nullopt},
      {"value 256 chars", "foo=" + std::string(256, 'v'), "foo=" + std::string(256, 'v')},
      {"value 257 chars", "foo=" + std::string(257, 'v'), std::nullopt},
      {"one bad member discards all", "foo=1,bar", std::nullopt},
      // "Combined Header Value": one entry per key, the leftmost being the
      // most recent position, so a repeated key's later members go.
      {"combined header value: duplicate key", "foo=1,foo=2", "foo=1"},
      {"combined header value: duplicate key, same value", "foo=1,foo=1", "foo=1"},
      {"combined header value: duplicate key apart", "foo=1,bar=2,foo=3", "foo=1,bar=2"},
      {"combined header value: duplicate multi-tenant key", "t@s=1,t@s=2", "t@s=1"},
      {"combined header value: same tenant, other system", "t@s=1,t@r=2", "t@s=1,t@r=2"},
      {"combined header value: a bad duplicate still discards all", "foo=1,foo=", std::nullopt},
      // "list": at most 32 members; more are dropped from the end.
      {"list: 32 members", members(32), members(32)},
      {"list: 32 members with OWS", members(32, " , "), members(32)},
      {"list: 32 members and empty ones", ",," + members(32, ",,") + ",", members(32)},
      {"list: 33 members, the last dropped", members(33), members(32)},
      {"list: 40 members, the last 8 dropped", members(40), members(32)},
      {"list: duplicates do not count", members(32) + ",k1=x,k33=v33", members(32)},
      {"list: a dropped duplicate leaves room", "k1=v1,k1=x," + members(32).substr(6), members(32)},
      // "tracestate Limits": past 8192 characters whole members go, those
      // over 128 characters first, then from the end.
      {"limits: 8192 characters kept whole", long_members(20) + ",s=" + std::string(170, 'v'),
       long_members(20) + ",s=" + std::string(170, 'v')},
      {"limits: long members from the end", long_members(25), long_members(20)},
      {"limits: long members before short ones", long_members(21) + ",s1=1,s2=2,s3=3",
       long_members(20) + ",s1=1,s2=2,s3=3"},
      {"limits: trailing OWS is not counted", "a=b" + std::string(8189, ' '), "a=b"},
      {"limits: 65536 bytes read", "a=b" + std::string(65533, ' '), "a=b"},
      {"limits: over 65536 bytes refused", "a=b" + std::string(65534, ' '), std::nullopt},
  };
  return cases;
}

TEST(TracestateParse, SpecCases) {
  for (const auto& c : tracestate_cases()) {
    SCOPED_TRACE(std::string(c.name) + ": \"" + c.header.substr(0, 120) + "\"");
    EXPECT_EQ(prop::parse_tracestate(c.header), c.expected);
  }
}

TEST(TracestateParse, OutputReparsesToItself) {
  for (const auto& c : tracestate_cases()) {
    if (!c.expected) continue;
    SCOPED_TRACE(c.name);
    EXPECT_EQ(prop::parse_tracestate(*c.expected), c.expected);
  }
}

// --- baggage ----------------------------------------------------------------

struct BaggageCase {
  const char* name;
  std::string header;
  obs::Baggage expected;
};

const std::vector<BaggageCase>& baggage_cases() {
  static const std::vector<BaggageCase> cases = {
      {"empty", "", {}},
      {"whitespace and commas", " , ,\t", {}},
      {"spec example", "userId=alice,serverNode=DF%2028,isProduction=false",
       {{"userId", "alice"}, {"serverNode", "DF 28"}, {"isProduction", "false"}}},
      {"OWS trimmed", "userId =   alice , serverNode = DF%2028\t",
       {{"userId", "alice"}, {"serverNode", "DF 28"}}},
      {"properties accepted and dropped",
       "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
       {{"key1", "value1"}, {"key2", "value2"}, {"key3", "value3"}}},
      {"property with OWS and empty value", "k=v ; p = ; q=1=2", {{"k", "v"}}},
      // Percent-decoding.
      {"percent UTF-8", "k=%E2%9C%93", {{"k", "\xe2\x9c\x93"}}},
      {"percent lower-case hex", "k=caf%c3%a9", {{"k", "caf\xc3\xa9"}}},
      {"percent separators", "k=a%2Cb%3Bc%25d%3De", {{"k", "a,b;c%d=e"}}},
      {"plus is literal", "k=a+b", {{"k", "a+b"}}},
      {"unreserved escapes", "k=%41%42", {{"k", "AB"}}},
      {"empty value", "k=", {{"k", ""}}},
      {"= in value", "k=a=b", {{"k", "a=b"}}},
      {"token key characters", "!#$%&'*+-.^_`|~Az09=v", {{"!#$%&'*+-.^_`|~Az09", "v"}}},
      {"duplicates kept in order", "k=1,j=2,k=3", {{"k", "1"}, {"j", "2"}, {"k", "3"}}},
      // Invalid members are skipped, the rest kept.
      {"no =", "good=1,bad,also=2", {{"good", "1"}, {"also", "2"}}},
      {"empty key", "=v,ok=1", {{"ok", "1"}}},
      {"key not a token", "k(=v,k y=v,ok=1", {{"ok", "1"}}},
      {"space in value", "k=va lue,ok=1", {{"ok", "1"}}},
      {"DQUOTE in value", "k=\"q\",ok=1", {{"ok", "1"}}},
      {"backslash in value", "k=a\\b,ok=1", {{"ok", "1"}}},
      {"non-ASCII raw in value", "k=caf\xc3\xa9,ok=1", {{"ok", "1"}}},
      {"CR LF in value", "k=a\r\nx-evil: 1,ok=1", {{"ok", "1"}}},
      {"bad escape", "k=%zz,ok=1", {{"ok", "1"}}},
      {"truncated escape", "k=%4,ok=1", {{"ok", "1"}}},
      {"lone percent", "k=100%,ok=1", {{"ok", "1"}}},
      {"decodes to invalid UTF-8", "k=%FF,ok=1", {{"ok", "1"}}},
      {"overlong UTF-8", "k=%C0%AF,ok=1", {{"ok", "1"}}},
      {"surrogate UTF-8", "k=%ED%A0%80,ok=1", {{"ok", "1"}}},
      {"truncated UTF-8", "k=%E2%9C,ok=1", {{"ok", "1"}}},
      {"empty property", "k=v;,ok=1", {{"ok", "1"}}},
      {"property without key", "k=v;=x,ok=1", {{"ok", "1"}}},
      {"property bad value", "k=v;p=a b,ok=1", {{"ok", "1"}}},
      {"property bad key", "k=v;p q,ok=1", {{"ok", "1"}}},
      {"property before value", "k;p=v,ok=1", {{"ok", "1"}}},
  };
  return cases;
}

TEST(BaggageParse, SpecCases) {
  for (const auto& c : baggage_cases()) {
    SCOPED_TRACE(std::string(c.name) + ": \"" + c.header + "\"");
    EXPECT_EQ(prop::parse_baggage(c.header), c.expected);
  }
}

TEST(BaggageParse, KeepsAtMost64Members) {
  std::string header;
  for (int i = 0; i < 70; ++i) {
    if (i) header += ',';
    header += obs_test::numbered("k", i);
    header += "=v";
  }
  const auto baggage = prop::parse_baggage(header);
  ASSERT_EQ(baggage.size(), 64u);
  EXPECT_EQ(baggage.front().first, "k0");
  EXPECT_EQ(baggage.back().first, "k63");
}

TEST(BaggageParse, InvalidMembersDoNotCountTowardsTheLimit) {
  std::string header = repeat("bad,", 100) + members(64);
  const auto baggage = prop::parse_baggage(header);
  ASSERT_EQ(baggage.size(), 64u);
  EXPECT_EQ(baggage.back().first, "k64");
}

TEST(BaggageParse, ReadsOnlyTheFirst8192Bytes) {
  // A member that ends exactly at byte 8192 is kept ...
  const std::string first = "a=" + std::string(8190, 'x');
  EXPECT_EQ(prop::parse_baggage(first + ",b=1"), (obs::Baggage{{"a", std::string(8190, 'x')}}));
  EXPECT_EQ(prop::parse_baggage(first), (obs::Baggage{{"a", std::string(8190, 'x')}}));
  // ... one that crosses it is dropped, not truncated ...
  EXPECT_EQ(prop::parse_baggage("a=1,b=" + std::string(8186, 'y') + "z"), (obs::Baggage{{"a", "1"}}));
  // ... and nothing after it is read.
  EXPECT_EQ(prop::parse_baggage("a=" + std::string(8191, 'x') + ",b=1"), obs::Baggage{});
  EXPECT_EQ(prop::parse_baggage("a=1," + std::string(9000, ' ') + ",b=1"), (obs::Baggage{{"a", "1"}}));
}

TEST(BaggageFormat, RoundTripsCanonicalHeaders) {
  for (const std::string& header : std::vector<std::string>{"userId=alice,serverNode=DF%2028,isProduction=false",
                                   "k=a%2Cb%3Bc%25d=e", "k=%E2%9C%93%20%22q%22%5C", "k=,j=1,k=2",
                                   "!#$%&'*+-.^_`|~Az09=v"}) {
    SCOPED_TRACE(header);
    EXPECT_EQ(prop::format_baggage(prop::parse_baggage(header)), header);
  }
}

TEST(BaggageFormat, EncodesWhatIsNotABaggageOctet) {
  const obs::Baggage baggage{{"k", std::string("a b,c;d\"e\\f%g\th\x01i=j\xc3\xa9")}};
  const auto header = prop::format_baggage(baggage);
  EXPECT_EQ(header, "k=a%20b%2Cc%3Bd%22e%5Cf%25g%09h%01i=j%C3%A9");
  EXPECT_EQ(prop::parse_baggage(header), baggage);
}

TEST(BaggageFormat, SkipsWhatCannotBeWritten) {
  const obs::Baggage baggage{{"bad key", "1"}, {"", "2"}, {"k", "\xff"}, {"ok", "3"}};
  EXPECT_EQ(prop::format_baggage(baggage), "ok=3");
  EXPECT_EQ(prop::format_baggage({}), "");
}

TEST(BaggageFormat, StaysWithinTheLimits) {
  obs::Baggage many;
  for (int i = 0; i < 70; ++i) many.emplace_back(obs_test::numbered("k", i), "v");
  const auto parsed = prop::parse_baggage(prop::format_baggage(many));
  ASSERT_EQ(parsed.size(), 64u);
  EXPECT_EQ(parsed.back().first, "k63");

  // Entries that would push the header past 8192 bytes are skipped; a
  // later one that still fits is written.
  const obs::Baggage big{{"a", std::string(5000, 'x')}, {"b", std::string(5000, 'y')},
                         {"c", std::string(3000, ' ')}, {"d", "1"}};
  const auto header = prop::format_baggage(big);
  EXPECT_LE(header.size(), 8192u);
  EXPECT_EQ(prop::parse_baggage(header), (obs::Baggage{{"a", std::string(5000, 'x')}, {"d", "1"}}));
}

// --- x-request-id -----------------------------------------------------------

struct RequestIdCase {
  const char* name;
  std::string id;
  bool valid;
};

TEST(RequestIdValid, SpecCases) {
  const std::vector<RequestIdCase> cases = {
      {"one char", "a", true},
      {"all classes", "AZaz09._-", true},
      {"uuid", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", true},
      {"128 chars", std::string(128, 'x'), true},
      {"empty", "", false},
      {"129 chars", std::string(129, 'x'), false},
      {"space", "a b", false},
      {"slash", "a/b", false},
      {"colon", "a:b", false},
      {"plus", "a+b", false},
      {"CR LF", "a\r\nb", false},
      {"NUL", std::string("a\0b", 3), false},
      {"non-ASCII", "caf\xc3\xa9", false},
      {"leading space", " abc", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(prop::valid_request_id(c.id), c.valid);
    const auto kept = prop::request_id_or_new(c.id);
    if (c.valid) {
      EXPECT_EQ(kept, c.id);
    } else {
      EXPECT_EQ(kept.size(), 32u);
      EXPECT_TRUE(is_lower_hex(kept)) << kept;
    }
  }
}

TEST(RequestIdNew, Is32RandomHexDigits) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const auto id = prop::new_request_id();
    ASSERT_EQ(id.size(), 32u);
    ASSERT_TRUE(is_lower_hex(id)) << id;
    ASSERT_TRUE(prop::valid_request_id(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

// --- extract / inject -------------------------------------------------------

using Headers = std::map<std::string, std::string, std::less<>>;

obs::Context extract_from(const Headers& headers) {
  return prop::extract([&headers](std::string_view name) -> const std::string* {
    const auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
  });
}

Headers inject_to(const obs::Context& context) {
  Headers headers;
  prop::inject(context, [&headers](std::string_view name, std::string value) {
    EXPECT_TRUE(headers.emplace(std::string(name), std::move(value)).second) << "set twice: " << name;
  });
  return headers;
}

TEST(PropagationExtract, ReadsEveryHeader) {
  const auto context = extract_from({{"traceparent", tp("00", "01")},
                                     {"tracestate", " rojo=1 ,, congo=2"},
                                     {"baggage", "userId=alice, serverNode=DF%2028"},
                                     {"x-request-id", "req-42"}});
  EXPECT_TRUE(context.span.valid());
  EXPECT_TRUE(context.span.remote);
  EXPECT_TRUE(context.span.sampled);
  EXPECT_EQ(context.span.trace_id.hex(), kTrace);
  EXPECT_EQ(context.span.span_id.hex(), kSpan);
  EXPECT_EQ(context.span.trace_state, "rojo=1,congo=2");
  EXPECT_EQ(context.baggage, (obs::Baggage{{"userId", "alice"}, {"serverNode", "DF 28"}}));
  EXPECT_EQ(context.request_id, "req-42");
}

TEST(PropagationExtract, NoHeadersStartsANewTrace) {
  const auto context = extract_from({});
  EXPECT_FALSE(context.span.valid());
  EXPECT_FALSE(context.span.remote);
  EXPECT_TRUE(context.span.trace_state.empty());
  EXPECT_TRUE(context.baggage.empty());
  EXPECT_EQ(context.request_id.size(), 32u);
  EXPECT_TRUE(is_lower_hex(context.request_id));
}

TEST(PropagationExtract, InvalidTraceparentIgnoresTracestate) {
  for (const std::string& bad : std::vector<std::string>{tp("ff", "01"), tp("00", "01", "-x"), std::string("garbage")}) {
    SCOPED_TRACE(bad);
    const auto context = extract_from({{"traceparent", bad}, {"tracestate", "rojo=1"}, {"baggage", "k=v"}});
    EXPECT_FALSE(context.span.valid());
    EXPECT_TRUE(context.span.trace_state.empty());
    EXPECT_EQ(context.baggage, (obs::Baggage{{"k", "v"}}));  // baggage is independent
  }
  // tracestate without traceparent is not read either.
  EXPECT_TRUE(extract_from({{"tracestate", "rojo=1"}}).span.trace_state.empty());
}

TEST(PropagationExtract, InvalidTracestateKeepsTraceparent) {
  const auto context = extract_from({{"traceparent", tp("00", "01")}, {"tracestate", "rojo=1,Rojo=2"}});
  EXPECT_TRUE(context.span.valid());
  EXPECT_TRUE(context.span.trace_state.empty());
}

// Repeated header fields, as a carrier with several values per name hands
// them over (an ordered list of name/value pairs, like HTTP's).
using Fields = std::vector<std::pair<std::string, std::string>>;

obs::Context extract_fields_from(const Fields& fields) {
  return prop::extract_fields([&fields](std::string_view name, const prop::HeaderFieldVisitor& field) {
    for (const auto& [n, v] : fields)
      if (n == name) field(v);
  });
}

// RFC 9110 section 5.3 (Field Order): repeated fields combine into one
// value, comma-joined in order. Trace Context's "tracestate Header Field
// Values" requires exactly that for tracestate; for traceparent two fields
// make a value no parser accepts, so a new trace starts.
TEST(PropagationExtract, Rfc9110Sec5_3_RepeatedFieldsAreCombinedInOrder) {
  struct Case {
    const char* name;
    Fields fields;
    bool span_valid;
    std::string trace_state;
    obs::Baggage baggage;
  };
  const std::string parent = tp("00", "01");
  const std::string other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  for (const auto& c : std::vector<Case>{
           {"one of each", {{"traceparent", parent}, {"tracestate", "a=1"}}, true, "a=1", {}},
           {"two traceparents start a new trace", {{"traceparent", parent}, {"traceparent", other}}, false, "", {}},
           {"the same traceparent twice also does",
            {{"traceparent", parent}, {"traceparent", parent}, {"tracestate", "a=1"}}, false, "", {}},
           {"tracestate fields joined in order",
            {{"tracestate", "foo=1,bar=2"}, {"traceparent", parent}, {"tracestate", "rojo=1,congo=2"},
             {"tracestate", "baz=3"}},
            true, "foo=1,bar=2,rojo=1,congo=2,baz=3", {}},
           {"empty tracestate fields", {{"traceparent", parent}, {"tracestate", ""}, {"tracestate", "foo=1"}}, true,
            "foo=1", {}},
           {"a key repeated across fields keeps the first",
            {{"traceparent", parent}, {"tracestate", "foo=1"}, {"tracestate", "foo=2"}}, true, "foo=1", {}},
           {"32 members over four fields",
            {{"traceparent", parent}, {"tracestate", members(10)}, {"tracestate", "k11=v11,k12=v12"},
             {"tracestate", members(32).substr(members(12).size() + 1)}},
            true, members(32), {}},
           {"baggage fields joined",
            {{"baggage", "a=1"}, {"baggage", "b=2,c=3"}}, false, "", {{"a", "1"}, {"b", "2"}, {"c", "3"}}},
       }) {
    SCOPED_TRACE(c.name);
    const auto context = extract_fields_from(c.fields);
    EXPECT_EQ(context.span.valid(), c.span_valid);
    EXPECT_EQ(context.span.trace_state, c.trace_state);
    EXPECT_EQ(context.baggage, c.baggage);
  }
  // Fields that together exceed what tracestate may be (64 KiB) are
  // refused as a whole, however they are split; traceparent stands.
  const auto huge = extract_fields_from({{"traceparent", parent},
                                         {"tracestate", "a=" + std::string(40000, 'x').substr(0, 256)},
                                         {"tracestate", std::string(40000, ' ')},
                                         {"tracestate", std::string(40000, ' ')}});
  EXPECT_TRUE(huge.span.valid());
  EXPECT_TRUE(huge.span.trace_state.empty());
  // Two request ids joined are not one valid id: a new one is made.
  const auto ids = extract_fields_from({{"x-request-id", "a"}, {"x-request-id", "b"}});
  EXPECT_EQ(ids.request_id.size(), 32u);
}

// Level 2, "Random Trace ID Flag": kept through extract and inject.
TEST(PropagationRoundTrip, Level2RandomFlagIsPropagated) {
  for (const char* flags : {"00", "01", "02", "03"}) {
    SCOPED_TRACE(flags);
    EXPECT_EQ(inject_to(extract_from({{"traceparent", tp("00", flags)}})).at("traceparent"), tp("00", flags));
  }
}

TEST(PropagationExtract, InvalidRequestIdIsReplaced) {
  for (const std::string& bad : std::vector<std::string>{std::string(""), std::string(129, 'a'), std::string("a b")}) {
    const auto context = extract_from({{"x-request-id", bad}});
    EXPECT_NE(context.request_id, bad);
    EXPECT_EQ(context.request_id.size(), 32u);
  }
}

TEST(PropagationExtract, EmptyGetterIsNoHeaders) {
  const auto context = prop::extract(prop::HeaderGetter{});
  EXPECT_FALSE(context.span.valid());
  EXPECT_EQ(context.request_id.size(), 32u);
}

TEST(PropagationInject, WritesEveryHeader) {
  obs::Context context;
  context.span = *prop::parse_traceparent(tp("00", "01"));
  context.span.trace_state = "rojo=1,congo=2";
  context.baggage = {{"userId", "alice"}, {"serverNode", "DF 28"}};
  context.request_id = "req-42";
  EXPECT_EQ(inject_to(context), (Headers{{"traceparent", tp("00", "01")},
                                         {"tracestate", "rojo=1,congo=2"},
                                         {"baggage", "userId=alice,serverNode=DF%2028"},
                                         {"x-request-id", "req-42"}}));
}

TEST(PropagationInject, SkipsWhatIsAbsentOrInvalid) {
  obs::Context context;
  context.span.trace_state = "rojo=1";  // no traceparent: no tracestate either
  EXPECT_EQ(inject_to(context), Headers{});

  context.span = *prop::parse_traceparent(tp("00", "00"));
  context.span.trace_state = "rojo=1\r\nx-evil: 1";  // not a valid tracestate
  context.request_id = "req\r\nx-evil: 1";           // not a valid request id
  EXPECT_EQ(inject_to(context), (Headers{{"traceparent", tp("00", "00")}}));

  context.span.trace_state = " , ,";  // valid, but empty once normalised
  EXPECT_EQ(inject_to(context), (Headers{{"traceparent", tp("00", "00")}}));
  context.span.trace_state = " rojo=1 ,, congo=2";  // written normalised
  EXPECT_EQ(inject_to(context), (Headers{{"traceparent", tp("00", "00")}, {"tracestate", "rojo=1,congo=2"}}));

  prop::inject(context, prop::HeaderSetter{});  // no setter: nothing to do, no throw
}

TEST(PropagationRoundTrip, ExtractInjectThroughAHeaderMap) {
  const Headers canonical{{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                          {"tracestate", "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7,t@s=x y"},
                          {"baggage", "userId=alice,serverNode=DF%2028,emoji=%E2%9C%93"},
                          {"x-request-id", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}};
  EXPECT_EQ(inject_to(extract_from(canonical)), canonical);

  // Non-canonical input comes out normalised, and stays so.
  const Headers loose{{"traceparent", " cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0b-future"},
                      {"tracestate", ",congo=ucfJifl5GOE , rojo=00f067aa0ba902b7,,"},
                      {"baggage", "userId = alice;prop, bad, serverNode=DF%2028"},
                      {"x-request-id", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}};
  const auto once = inject_to(extract_from(loose));
  // Flags 0b: sampled and random (bits 0 and 1) kept, bit 3 written as zero.
  EXPECT_EQ(once, (Headers{{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03"},
                           {"tracestate", "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7"},
                           {"baggage", "userId=alice,serverNode=DF%2028"},
                           {"x-request-id", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}}));
  EXPECT_EQ(inject_to(extract_from(once)), once);
}

TEST(PropagationRoundTrip, NewTraceGetsOnlyARequestId) {
  const auto headers = inject_to(extract_from({{"traceparent", tp("ff", "01")}}));
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers.count("x-request-id"), 1u);
}

}  // namespace
