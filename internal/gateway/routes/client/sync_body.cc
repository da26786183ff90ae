#include "internal/gateway/routes/client/sync_body.h"

#include "absl/strings/str_cat.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::gateway {
namespace {

namespace syncapi_v1 = periscope::syncapi::v1;
using Events = google::protobuf::RepeatedPtrField<std::string>;

// A JSON string literal.
std::string Quoted(const std::string& s) { return matrix::Json(s).dump(); }

// [...] with each event's JSON as syncapi wrote it.
void AppendArray(std::string* out, const Events& events) {
  out->push_back('[');
  for (int i = 0; i < events.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append(events[i]);
  }
  out->push_back(']');
}

void AppendEvents(std::string* out, const Events& events) {
  out->append(R"({"events":)");
  AppendArray(out, events);
  out->push_back('}');
}

void AppendTimeline(std::string* out, const syncapi_v1::Timeline& timeline) {
  out->append(R"({"events":)");
  AppendArray(out, timeline.events_json());
  absl::StrAppend(out, R"(,"limited":)", timeline.limited() ? "true" : "false", R"(,"prev_batch":)",
                  Quoted(timeline.prev_batch()), "}");
}

void AppendJoinedRoom(std::string* out, const syncapi_v1::JoinedRoom& room) {
  out->append(R"({"state":)");
  AppendEvents(out, room.state_json());
  out->append(R"(,"timeline":)");
  AppendTimeline(out, room.timeline());
  out->append(R"(,"ephemeral":{"events":[]},"account_data":)");
  AppendEvents(out, room.account_data_json());
  out->append(R"(,"unread_notifications":{})");
  // syncapi sends the summary only when it may have changed; the spec lets it be omitted then.
  if (room.has_summary()) {
    matrix::Json summary = {{"m.joined_member_count", room.summary().joined_member_count()},
                            {"m.invited_member_count", room.summary().invited_member_count()}};
    if (room.summary().heroes_size() > 0) {
      summary["m.heroes"] = matrix::Json(
          std::vector<std::string>(room.summary().heroes().begin(), room.summary().heroes().end()));
    }
    absl::StrAppend(out, R"(,"summary":)", summary.dump());
  }
  out->push_back('}');
}

// {"<room id>":<room>,...} for one section of "rooms".
template <typename Rooms, typename AppendRoom>
void AppendRooms(std::string* out, const Rooms& rooms, const AppendRoom& append_room) {
  out->push_back('{');
  bool first = true;
  for (const auto& [room_id, room] : rooms) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, Quoted(room_id), ":");
    append_room(out, room);
  }
  out->push_back('}');
}

}  // namespace

std::string SyncBody(const syncapi_v1::SyncResponse& response) {
  std::string out;
  out.reserve(512);
  absl::StrAppend(&out, R"({"next_batch":)", Quoted(response.next_batch()), R"(,"rooms":{"join":)");
  AppendRooms(&out, response.join(), AppendJoinedRoom);
  if (!response.peek().empty()) {
    out.append(R"(,"peek":)");
    AppendRooms(&out, response.peek(), AppendJoinedRoom);
  }
  out.append(R"(,"invite":)");
  AppendRooms(&out, response.invite(), [](std::string* o, const syncapi_v1::InvitedRoom& room) {
    o->append(R"({"invite_state":)");
    AppendEvents(o, room.invite_state_json());
    o->push_back('}');
  });
  out.append(R"(,"leave":)");
  AppendRooms(&out, response.leave(), [](std::string* o, const syncapi_v1::LeftRoom& room) {
    o->append(R"({"state":)");
    AppendEvents(o, room.state_json());
    o->append(R"(,"timeline":)");
    AppendTimeline(o, room.timeline());
    o->push_back('}');
  });
  out.append(R"(,"knock":{}},"presence":{"events":[]},"account_data":)");
  AppendEvents(&out, response.account_data_json());
  out.append(R"(,"to_device":{"events":[]},"device_lists":{"changed":[],"left":[]},)"
             R"("device_one_time_keys_count":{}})");
  return out;
}

}  // namespace periscope::gateway
