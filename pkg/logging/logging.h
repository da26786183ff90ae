#pragma once
// Structured logging: one line per event, as key=value text or as a JSON object.
//
//   logging::Info("grpc.listening", {{"address", addr}, {"component", "userapi"}});
//   -> ts=2026-11-25T14:00:00.123Z level=info event=grpc.listening address=127.0.0.1:7070 ...
//
// Event names are stable dotted identifiers (they are grepped for); details go in fields.

#include <cstdio>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace periscope::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

absl::StatusOr<Level> ParseLevel(absl::string_view name);
absl::StatusOr<Format> ParseFormat(absl::string_view name);
absl::string_view LevelName(Level level);

// One key=value pair of an event.
struct Field {
  Field(absl::string_view k, absl::string_view v) : key(k), value(v) {}
  Field(absl::string_view k, const char* v) : key(k), value(v) {}
  Field(absl::string_view k, const std::string& v) : key(k), value(v) {}
  Field(absl::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  Field(absl::string_view k, const absl::Status& s) : key(k), value(s.ToString()) {}
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  Field(absl::string_view k, T v) : key(k), value(absl::StrCat(v)) {}

  std::string key;
  std::string value;
};

// Sets the minimum level, the format and the destination (stderr by default) for the process.
void Configure(Level min_level, Format format, std::FILE* out = stderr);

// Renders one event as a line (without the trailing newline). Exposed for tests.
std::string FormatLine(Format format, absl::Time ts, Level level, absl::string_view event,
                       std::initializer_list<Field> fields);

void Log(Level level, absl::string_view event, std::initializer_list<Field> fields);
inline void Debug(absl::string_view e, std::initializer_list<Field> f = {}) {
  Log(Level::kDebug, e, f);
}
inline void Info(absl::string_view e, std::initializer_list<Field> f = {}) {
  Log(Level::kInfo, e, f);
}
inline void Warn(absl::string_view e, std::initializer_list<Field> f = {}) {
  Log(Level::kWarn, e, f);
}
inline void Error(absl::string_view e, std::initializer_list<Field> f = {}) {
  Log(Level::kError, e, f);
}

}  // namespace periscope::logging
