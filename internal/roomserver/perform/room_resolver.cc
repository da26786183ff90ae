#include "internal/roomserver/perform/room_resolver.h"

#include "absl/strings/str_cat.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/identifiers.h"
#include "pkg/status/matrix_status.h"

namespace periscope::roomserver {

absl::StatusOr<std::string> ResolveRoomIdOrAlias(RoomStore& store,
                                                 absl::string_view room_id_or_alias) {
  if (!room_id_or_alias.empty() && room_id_or_alias[0] == '#') {
    PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomAlias(room_id_or_alias));
    PERISCOPE_ASSIGN_OR_RETURN(std::optional<std::string> room_id,
                               store.ResolveAlias(room_id_or_alias));
    if (!room_id) {
      return MatrixError(absl::StatusCode::kNotFound, matrix::errcode::kNotFound,
                         absl::StrCat("Room alias ", room_id_or_alias, " not found"));
    }
    return *room_id;
  }
  PERISCOPE_RETURN_IF_ERROR(matrix::ValidateRoomId(room_id_or_alias));
  return std::string(room_id_or_alias);
}

}  // namespace periscope::roomserver
