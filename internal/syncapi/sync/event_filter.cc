#include "internal/syncapi/sync/event_filter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {
namespace {

absl::Status InvalidParam(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam, message);
}

absl::StatusOr<std::optional<std::vector<std::string>>> StringList(const matrix::Json& object,
                                                                   const char* key,
                                                                   absl::string_view where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) return InvalidParam(absl::StrCat(where, ".", key, " must be a list"));
  std::vector<std::string> out;
  for (const matrix::Json& item : *it) {
    if (!item.is_string()) {
      return InvalidParam(absl::StrCat(where, ".", key, " must be a list of strings"));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

bool MatchesTypePattern(absl::string_view pattern, absl::string_view type) {
  // Iterative glob with backtracking to the last "*".
  size_t p = 0, t = 0, star = absl::string_view::npos, mark = 0;
  while (t < type.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == type[t]) {
      ++p;
      ++t;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool EventFilter::Allows(absl::string_view type, absl::string_view sender) const {
  auto any_type = [type](const std::vector<std::string>& patterns) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [type](const std::string& p) { return MatchesTypePattern(p, type); });
  };
  if (any_type(not_types)) return false;
  if (types && !any_type(*types)) return false;
  if (std::find(not_senders.begin(), not_senders.end(), sender) != not_senders.end()) return false;
  if (senders && std::find(senders->begin(), senders->end(), sender) == senders->end()) {
    return false;
  }
  return true;
}

absl::StatusOr<EventFilter> ParseEventFilter(const matrix::Json& object, absl::string_view where) {
  EventFilter filter;
  if (object.is_null()) return filter;
  if (!object.is_object()) return InvalidParam(absl::StrCat(where, " must be an object"));
  PERISCOPE_ASSIGN_OR_RETURN(filter.types, StringList(object, "types", where));
  PERISCOPE_ASSIGN_OR_RETURN(filter.senders, StringList(object, "senders", where));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> not_types,
                             StringList(object, "not_types", where));
  PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> not_senders,
                             StringList(object, "not_senders", where));
  filter.not_types = not_types.value_or(std::vector<std::string>());
  filter.not_senders = not_senders.value_or(std::vector<std::string>());
  if (auto lazy = object.find("lazy_load_members"); lazy != object.end() && !lazy->is_null()) {
    if (!lazy->is_boolean()) {
      return InvalidParam(absl::StrCat(where, ".lazy_load_members must be true or false"));
    }
    filter.lazy_load_members = lazy->get<bool>();
  }
  return filter;
}

}  // namespace periscope::syncapi
