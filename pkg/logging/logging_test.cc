#include "pkg/logging/logging.h"

#include "gtest/gtest.h"

namespace periscope::logging {
namespace {

const absl::Time kTs = absl::FromUnixMillis(1'764'000'000'123);

TEST(LoggingTest, TextLineQuotesOnlyWhatNeedsIt) {
  std::string line = FormatLine(Format::kText, kTs, Level::kInfo, "grpc.listening",
                                {{"address", "127.0.0.1:7070"}, {"note", "two words"}, {"n", 3}});
  EXPECT_EQ(line,
            "ts=2025-11-24T16:00:00.123Z level=info event=grpc.listening "
            "address=127.0.0.1:7070 note=\"two words\" n=3");
}

TEST(LoggingTest, TextLineStaysOneLine) {
  std::string line = FormatLine(Format::kText, kTs, Level::kWarn, "x", {{"v", "a\nb=c\"d"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("v=\"a\\nb=c\\\"d\""), std::string::npos) << line;
}

TEST(LoggingTest, JsonLine) {
  std::string line =
      FormatLine(Format::kJson, kTs, Level::kError, "db.lost", {{"err", "x\"y"}, {"ok", false}});
  EXPECT_EQ(line,
            "{\"ts\":\"2025-11-24T16:00:00.123Z\",\"level\":\"error\",\"event\":\"db.lost\","
            "\"err\":\"x\\\"y\",\"ok\":\"false\"}");
}

TEST(LoggingTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLevel("DEBUG"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("warning"), Level::kWarn);
  EXPECT_FALSE(ParseLevel("loud").ok());
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_FALSE(ParseFormat("xml").ok());
}

TEST(LoggingTest, WritesAtOrAboveMinimumLevel) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* mem = open_memstream(&buf, &len);
  Configure(Level::kWarn, Format::kText, mem);
  Info("skipped");
  Warn("kept", {{"k", "v"}});
  Configure(Level::kInfo, Format::kText, stderr);
  std::fclose(mem);
  std::string out(buf, len);
  free(buf);
  EXPECT_EQ(out.find("skipped"), std::string::npos);
  EXPECT_NE(out.find("event=kept k=v\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace periscope::logging
