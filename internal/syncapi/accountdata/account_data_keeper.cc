#include "internal/syncapi/accountdata/account_data_keeper.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {
namespace {

constexpr size_t kMaxTypeBytes = 255;

absl::Status InvalidParam(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam, message);
}

// The owner, room and type of a put or a query.
absl::Status ValidateKey(absl::string_view user_id, absl::string_view room_id,
                         absl::string_view type) {
  if (!matrix::ParseSigilId(user_id, '@').ok()) {
    return InvalidParam(absl::StrCat("\"", user_id, "\" is not a user id"));
  }
  if (!room_id.empty() && !matrix::ValidateRoomId(room_id).ok()) {
    return InvalidParam(absl::StrCat("\"", room_id, "\" is not a room id"));
  }
  if (type.empty() || type.size() > kMaxTypeBytes) {
    return InvalidParam("the account data type must be 1 to 255 bytes");
  }
  return absl::OkStatus();
}

// `json` as a JSON object: M_NOT_JSON / M_BAD_JSON otherwise.
absl::StatusOr<nlohmann::json> ParseObject(absl::string_view json, absl::string_view what) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
  if (parsed.is_discarded()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kNotJson,
                       absl::StrCat(what, " is not JSON"));
  }
  if (!parsed.is_object()) {
    return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kBadJson,
                       absl::StrCat(what, " must be a JSON object"));
  }
  return parsed;
}

absl::Status CheckSize(absl::string_view json) {
  if (json.size() <= kMaxAccountDataBytes) return absl::OkStatus();
  return MatrixError(
      absl::StatusCode::kInvalidArgument, matrix::errcode::kTooLarge,
      absl::StrCat("account data content is limited to ", kMaxAccountDataBytes, " bytes"));
}

std::string Encode(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

absl::Status AccountDataKeeper::Put(const v1::PutAccountDataRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(ValidateKey(request.user_id(), request.room_id(), request.type()));
  PERISCOPE_RETURN_IF_ERROR(CheckSize(request.content_json()));
  // Account data is not signed, so it need not be canonical JSON (floats are fine); it must be an
  // object, and is stored re-encoded so /sync can splice it in unchecked.
  PERISCOPE_ASSIGN_OR_RETURN(nlohmann::json content,
                             ParseObject(request.content_json(), "account data content"));
  PERISCOPE_ASSIGN_OR_RETURN(
      int64_t pos,
      store_.PutAccountData(request.user_id(), request.room_id(), request.type(), Encode(content)));
  notifier_.Wake({request.user_id()}, pos);
  return absl::OkStatus();
}

absl::Status AccountDataKeeper::Tag(const v1::PerformTagRequest& request) {
  if (request.room_id().empty()) return InvalidParam("tags belong to a room");
  PERISCOPE_RETURN_IF_ERROR(ValidateKey(request.user_id(), request.room_id(), "m.tag"));
  if (request.tag().empty() || request.tag().size() > kMaxTypeBytes) {
    return InvalidParam("a tag must be 1 to 255 bytes");
  }
  nlohmann::json tag_content;
  if (!request.remove()) {
    PERISCOPE_RETURN_IF_ERROR(CheckSize(request.content_json()));
    PERISCOPE_ASSIGN_OR_RETURN(tag_content, ParseObject(request.content_json(), "tag content"));
  }
  PERISCOPE_ASSIGN_OR_RETURN(
      int64_t pos,
      store_.ModifyAccountData(
          request.user_id(), request.room_id(), "m.tag",
          [&](const std::optional<std::string>& current) -> absl::StatusOr<std::string> {
            nlohmann::json tags = nlohmann::json::object();
            if (current) {
              nlohmann::json stored = nlohmann::json::parse(*current, nullptr, false);
              // A client may have PUT any object as m.tag; only a "tags" object is kept.
              if (stored.is_object() && stored.contains("tags") && stored["tags"].is_object()) {
                tags = std::move(stored["tags"]);
              }
            }
            if (request.remove()) {
              tags.erase(request.tag());
            } else {
              tags[request.tag()] = tag_content;
            }
            std::string encoded = Encode(nlohmann::json{{"tags", std::move(tags)}});
            PERISCOPE_RETURN_IF_ERROR(CheckSize(encoded));
            return encoded;
          }));
  notifier_.Wake({request.user_id()}, pos);
  return absl::OkStatus();
}

absl::StatusOr<v1::QueryAccountDataResponse> AccountDataKeeper::Query(
    const v1::QueryAccountDataRequest& request) {
  PERISCOPE_RETURN_IF_ERROR(ValidateKey(request.user_id(), request.room_id(), request.type()));
  PERISCOPE_ASSIGN_OR_RETURN(
      std::optional<std::string> content,
      store_.AccountData(request.user_id(), request.room_id(), request.type()));
  if (!content) {
    return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                       absl::StrCat("no account data of type \"", request.type(), "\""));
  }
  v1::QueryAccountDataResponse response;
  response.set_content_json(*std::move(content));
  return response;
}

}  // namespace periscope::syncapi
