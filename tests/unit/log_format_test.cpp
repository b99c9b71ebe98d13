// The console formats: fields, enrichment, and that no content can forge a
// second record or break the JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <limits>
#include <sstream>
#include <vector>

#include "obs/backends/console.hpp"
#include "obs/log_format.hpp"

namespace {

obs::LogRecord record(std::string message, std::initializer_list<obs::Field> fields) {
  obs::LogRecord r;
  r.time = std::chrono::system_clock::time_point(std::chrono::microseconds(1763800219123456));  // 2025-11-22T08:30:19.123456Z
  r.level = obs::log::Level::Warning;
  r.message = std::move(message);
  r.thread_id = 77;
  for (const auto& f : fields) {
    r.fields.emplace_back();
    r.fields.back().assign(f);
  }
  return r;
}

const obs::Resource kResource{"image_svc", "prod", "1.2.3", "host-a", 4242, {}};

const std::string kHostile = std::string("line1\nline2\r\"quoted\"\\ \x1b[31mred\x07 \t end") + '\0' + "nul";

TEST(LogFormat, TimestampIsIso8601UtcWithMicroseconds) {
  std::string out;
  obs::append_timestamp(out, std::chrono::system_clock::time_point(std::chrono::microseconds(1763800219000001)));
  EXPECT_EQ(out, "2025-11-22T08:30:19.000001Z");
}

TEST(LogFormat, JsonCarriesSeedFieldsEnrichmentAndTypedFields) {
  std::string out;
  obs::append_log_json(out, record("User logged in", {{"user_id", 42}, {"ratio", 0.5}, {"admin", true}, {"name", "bob"}}),
                       kResource);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["message"], "User logged in");
  EXPECT_EQ(j["time"], "2025-11-22T08:30:19.123456Z");
  EXPECT_EQ(j["severity"], "warning");
  EXPECT_EQ(j["service"], "image_svc");
  EXPECT_EQ(j["environment"], "prod");
  EXPECT_EQ(j["version"], "1.2.3");
  EXPECT_EQ(j["host"], "host-a");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["thread"], 77);
  EXPECT_EQ(j["user_id"], 42);
  EXPECT_EQ(j["ratio"], 0.5);
  EXPECT_EQ(j["admin"], true);
  EXPECT_EQ(j["name"], "bob");
}

TEST(LogFormat, JsonFieldsNamedLikeReservedKeysDoNotOverwriteThem) {
  std::string out;
  obs::append_log_json(out, record("real", {{"message", "forged"}, {"severity", "debug"}}), kResource);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["message"], "real");
  EXPECT_EQ(j["severity"], "warning");
  EXPECT_EQ(j["fields.message"], "forged");
  EXPECT_EQ(j["fields.severity"], "debug");
}

TEST(LogFormat, JsonHostileContentStaysOneValidRecordAndRoundTrips) {
  std::string out;
  obs::append_log_json(out, record(kHostile, {{kHostile, kHostile}}), kResource);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  const auto j = nlohmann::json::parse(out);  // throws if the JSON is broken
  EXPECT_EQ(j["message"], kHostile);
  EXPECT_EQ(j[kHostile], kHostile);
}

TEST(LogFormat, JsonReplacesInvalidUtf8AndWritesNonFiniteNumbersAsStrings) {
  std::string out;
  obs::append_log_json(out,
                       record("bad \xff\xfe utf8 \xc0\xaf overlong \xed\xa0\x80 surrogate, ok \xc3\xa9",
                              {{"nan", std::nan("")}, {"inf", 1.0 / 0.0}}),
                       kResource);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["message"], "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd\xef\xbf\xbd overlong "
                          "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd surrogate, ok \xc3\xa9");
  EXPECT_EQ(j["nan"], "NaN");
  EXPECT_EQ(j["inf"], "+Inf");
}

TEST(LogFormat, TextIsOneLineWithQuotedFields) {
  std::string out;
  obs::append_log_text(out, record("User logged in", {{"user_id", 42}, {"note", "two words"}, {"ok", false}}),
                       kResource);
  EXPECT_EQ(out, "2025-11-22T08:30:19.123456Z WARN  image_svc: User logged in user_id=42 note=\"two words\" ok=false");
}

TEST(LogFormat, TextHostileContentCannotStartANewLine) {
  std::string out;
  obs::append_log_text(out, record(kHostile, {{"f", kHostile}}), kResource);
  for (unsigned char c : out) EXPECT_TRUE(c >= 0x20 && c != 0x7f) << "raw control byte " << int(c) << " in: " << out;
  EXPECT_NE(out.find("line1\\nline2\\r"), std::string::npos) << out;
  EXPECT_NE(out.find("f=\"line1\\nline2\\r\\\"quoted\\\""), std::string::npos) << out;
}

TEST(LogFormat, ArrayFieldsAreJsonArraysInBothFormats) {
  const std::vector<std::string> tags = {"a", "b,c", "q\"uote"};
  const auto r = record("m", {{"tags", tags}, {"ids", {1, -2}}, {"r", {0.5, std::numeric_limits<double>::infinity()}},
                              {"flags", {true, false}}, {"none", std::vector<int>{}}});
  std::string json;
  obs::append_log_json(json, r, kResource);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["tags"], nlohmann::json::parse(R"(["a","b,c","q\"uote"])"));
  EXPECT_EQ(j["ids"], nlohmann::json::parse("[1,-2]"));
  EXPECT_EQ(j["r"], nlohmann::json::parse(R"([0.5,"+Inf"])"));
  EXPECT_EQ(j["flags"], nlohmann::json::parse("[true,false]"));
  EXPECT_EQ(j["none"], nlohmann::json::array());
  std::string text;
  obs::append_log_text(text, r, kResource);
  EXPECT_NE(text.find(R"(tags=["a","b,c","q\"uote"] ids=[1,-2] r=[0.5,"+Inf"] flags=[true,false] none=[])"), std::string::npos)
      << text;
}

TEST(LogFormat, LargeUnsignedFieldKeepsItsMagnitude) {
  std::string out;
  obs::append_log_json(out, record("m", {{"big", std::uint64_t{18446744073709551615ull}}}), kResource);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(out)["big"].get<double>(), 18446744073709551615.0);
}

// The console backend writes a batch in chunks of many lines; every record
// is still exactly one whole line, in order, in both formats.
TEST(ConsoleBackend, ABatchLargerThanAChunkIsOneWholeLinePerRecord) {
  for (const auto format : {obs::LogFormat::Text, obs::LogFormat::Json}) {
    std::vector<obs::LogRecord> records;
    for (int i = 0; i < 3000; ++i) records.push_back(record("record " + std::to_string(i), {{"i", i}, {"pad", std::string(40, 'p')}}));
    testing::internal::CaptureStdout();
    {
      obs::ConsoleLogBackend console(format);
      console.write(obs::LogBatch{kResource, records});
      console.write(obs::LogBatch{kResource, std::span(records).first(1)});
    }
    const std::string out = testing::internal::GetCapturedStdout();
    ASSERT_GT(out.size(), 128u * 1024) << "the batch must span several chunks";
    ASSERT_EQ(out.back(), '\n');
    std::istringstream lines(out);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
      std::string expected;
      const obs::LogRecord& r = records[n < 3000 ? n : 0];
      if (format == obs::LogFormat::Json) obs::append_log_json(expected, r, kResource);
      else obs::append_log_text(expected, r, kResource);
      ASSERT_EQ(line, expected) << "line " << n;
      ++n;
    }
    EXPECT_EQ(n, 3001);
  }
}

}  // namespace
