#include "pkg/logging/logging.h"

#include <atomic>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace periscope::logging {
namespace {

struct Sink {
  std::atomic<Level> min_level{Level::kInfo};
  std::atomic<Format> format{Format::kText};
  std::atomic<std::FILE*> out{stderr};
  std::mutex write_mu;  // keeps lines from interleaving
};

Sink& GlobalSink() {
  static Sink sink;
  return sink;
}

void AppendJsonString(std::string& out, absl::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

bool NeedsQuotes(absl::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) return true;
  }
  return false;
}

void AppendTextValue(std::string& out, absl::string_view v) {
  if (NeedsQuotes(v)) {
    AppendJsonString(out, v);  // JSON string escaping keeps the line single and unambiguous
  } else {
    out.append(v.data(), v.size());
  }
}

}  // namespace

absl::StatusOr<Level> ParseLevel(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "debug") return Level::kDebug;
  if (n == "info") return Level::kInfo;
  if (n == "warn" || n == "warning") return Level::kWarn;
  if (n == "error") return Level::kError;
  return absl::InvalidArgumentError("expected one of debug, info, warn, error");
}

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "text") return Format::kText;
  if (n == "json") return Format::kJson;
  return absl::InvalidArgumentError("expected text or json");
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void Configure(Level min_level, Format format, std::FILE* out) {
  Sink& sink = GlobalSink();
  sink.min_level = min_level;
  sink.format = format;
  sink.out = out;
}

std::string FormatLine(Format format, absl::Time ts, Level level, absl::string_view event,
                       std::initializer_list<Field> fields) {
  std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", ts, absl::UTCTimeZone());
  std::string line;
  if (format == Format::kJson) {
    line =
        "{\"ts\":\"" + time + "\",\"level\":\"" + std::string(LevelName(level)) + "\",\"event\":";
    AppendJsonString(line, event);
    for (const Field& f : fields) {
      line.push_back(',');
      AppendJsonString(line, f.key);
      line.push_back(':');
      AppendJsonString(line, f.value);
    }
    line.push_back('}');
    return line;
  }
  line = absl::StrCat("ts=", time, " level=", LevelName(level), " event=");
  AppendTextValue(line, event);
  for (const Field& f : fields) {
    line.push_back(' ');
    line.append(f.key.data(), f.key.size());
    line.push_back('=');
    AppendTextValue(line, f.value);
  }
  return line;
}

void Log(Level level, absl::string_view event, std::initializer_list<Field> fields) {
  Sink& sink = GlobalSink();
  if (level < sink.min_level.load()) return;
  std::string line = FormatLine(sink.format.load(), absl::Now(), level, event, fields);
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(sink.write_mu);
  std::FILE* out = sink.out.load();
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace periscope::logging
