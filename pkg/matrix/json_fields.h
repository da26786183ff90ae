#pragma once
// Reading fields of untrusted event JSON without copying and without throwing: a missing key or a
// value of the wrong type reads as null / an empty string.

#include <string>

#include "pkg/matrix/canonical_json.h"

namespace periscope::matrix {

// object[key] if `object` is an object that has it, else a null value.
inline const Json& JsonField(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// object[key] if it is a string, else "".
inline std::string StringField(const Json& object, const char* key) {
  const Json& value = JsonField(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

// The event's "content" (null if missing).
inline const Json& ContentOf(const Json& event) { return JsonField(event, "content"); }

}  // namespace periscope::matrix
