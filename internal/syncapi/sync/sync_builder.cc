#include "internal/syncapi/sync/sync_builder.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "internal/syncapi/sync/client_event.h"
#include "internal/syncapi/sync/visibility.h"
#include "pkg/matrix/canonical_json.h"
#include "pkg/matrix/errcodes.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/status/matrix_status.h"

namespace periscope::syncapi {
namespace {

absl::Status InvalidParam(absl::string_view message) {
  return MatrixError(absl::StatusCode::kInvalidArgument, matrix::errcode::kInvalidParam, message);
}

constexpr int kMaxTimelineLimit = 100;
constexpr size_t kMaxHeroes = 5;
constexpr int kMaxSnapshotAttempts = 5;

std::vector<SyncEvent> Filtered(const std::vector<SyncEvent>& events, const EventFilter& filter) {
  std::vector<SyncEvent> out;
  for (const SyncEvent& e : events) {
    if (filter.Allows(e.type, e.sender)) out.push_back(e);
  }
  return out;
}

// The state to send with `timeline`: filtered, and with lazy-loaded members only those who sent
// something in the timeline, and the user.
std::vector<SyncEvent> StateFor(const std::vector<SyncEvent>& state,
                                const std::vector<SyncEvent>& timeline, const EventFilter& filter,
                                absl::string_view user_id) {
  std::set<std::string, std::less<>> senders = {std::string(user_id)};
  for (const SyncEvent& e : timeline) senders.insert(e.sender);
  std::vector<SyncEvent> out;
  for (const SyncEvent& e : state) {
    if (!filter.Allows(e.type, e.sender)) continue;
    if (filter.lazy_load_members && e.type == "m.room.member" &&
        !senders.contains(e.state_key.value_or(""))) {
      continue;
    }
    out.push_back(e);
  }
  return out;
}

// m.heroes: for rooms without a name or canonical alias, up to five other joined or invited
// members (by user id), from which clients compute a display name.
std::vector<std::string> Heroes(const std::vector<SyncEvent>& state, absl::string_view user_id) {
  std::vector<std::string> heroes;
  for (const SyncEvent& e : state) {
    if (e.type == "m.room.name" || e.type == "m.room.canonical_alias") return {};
    if (e.type == "m.room.member" && e.state_key && *e.state_key != user_id &&
        (e.membership == "join" || e.membership == "invite")) {
      heroes.push_back(*e.state_key);
    }
  }
  std::sort(heroes.begin(), heroes.end());
  if (heroes.size() > kMaxHeroes) heroes.resize(kMaxHeroes);
  return heroes;
}

// An account data entry as /sync shows it: {"type", "content"}. The content is stored as the
// canonical JSON object the writer checked, so it is spliced in as is.
std::string AccountDataEventJson(const AccountDataEntry& entry) {
  return absl::StrCat(R"({"content":)", entry.content_json, R"(,"type":)",
                      matrix::Json(entry.type).dump(), "}");
}

}  // namespace

absl::StatusOr<SyncFilter> ParseSyncFilter(absl::string_view filter_json) {
  SyncFilter filter;
  if (filter_json.empty()) return filter;
  absl::StatusOr<matrix::Json> json = matrix::ParseJson(filter_json);
  if (!json.ok() || !json->is_object()) return InvalidParam("the filter is not a JSON object");
  const matrix::Json& room = json->value("room", matrix::Json::object());
  if (!room.is_object()) return InvalidParam("filter.room must be an object");
  const matrix::Json& timeline = room.value("timeline", matrix::Json::object());
  if (!timeline.is_object()) return InvalidParam("filter.room.timeline must be an object");
  if (auto limit = timeline.find("limit"); limit != timeline.end()) {
    if (!limit->is_number_integer() || limit->get<int64_t>() < 0) {
      return InvalidParam("filter.room.timeline.limit must be a non-negative integer");
    }
    filter.timeline_limit =
        static_cast<int>(std::min<int64_t>(limit->get<int64_t>(), kMaxTimelineLimit));
  }
  PERISCOPE_ASSIGN_OR_RETURN(filter.timeline, ParseEventFilter(timeline, "filter.room.timeline"));
  PERISCOPE_ASSIGN_OR_RETURN(
      filter.state, ParseEventFilter(room.value("state", matrix::Json()), "filter.room.state"));
  return filter;
}

absl::StatusOr<int64_t> ParseSinceToken(absl::string_view token) {
  if (token.empty()) return 0;
  int64_t pos = 0;
  if (token.size() < 2 || token[0] != 's' || !absl::SimpleAtoi(token.substr(1), &pos) || pos < 0) {
    return InvalidParam(absl::StrCat("\"", token, "\" is not a sync token of this server"));
  }
  return pos;
}

std::string MakeSyncToken(int64_t pos) { return absl::StrCat("s", pos); }

absl::StatusOr<v1::SyncResponse> SyncBuilder::Build(const SyncQuery& query, bool* empty) {
  *empty = true;
  v1::SyncResponse response;
  PERISCOPE_ASSIGN_OR_RETURN(int64_t to, store_.MaxPosition());
  // A token from the future (another server, or a wiped database) counts as "up to date".
  const int64_t since = std::min(query.since, to);
  response.set_next_batch(MakeSyncToken(to));
  if (!query.initial && since == to && !query.full_state) return response;

  // The user's memberships and the device's peeks as of `to`. Read after it, they hold every
  // change up to it; if they also hold one after it (it landed between the reads), `to` is read
  // again. A change before `to` missing here would never be sent (the next sync starts after it);
  // one after it sent now would be sent again. Later reads (timelines, state) are bounded by `to`.
  std::vector<RoomMembership> memberships;
  std::vector<DevicePeek> peeks;
  for (int attempt = 1;; ++attempt) {
    PERISCOPE_ASSIGN_OR_RETURN(memberships, store_.MembershipsOf(query.user_id));
    PERISCOPE_ASSIGN_OR_RETURN(peeks, store_.PeeksOf(query.user_id, query.device_id));
    int64_t newest = 0;
    for (const RoomMembership& m : memberships) newest = std::max(newest, m.pos);
    for (const DevicePeek& p : peeks) newest = std::max({newest, p.pos, p.ended_pos.value_or(0)});
    // The user's own memberships changing on every read: settle (a change after `to` then comes
    // now and again in the next sync; none is lost).
    if (newest <= to || attempt == kMaxSnapshotAttempts) break;
    PERISCOPE_ASSIGN_OR_RETURN(to, store_.MaxPosition());
  }
  response.set_next_batch(MakeSyncToken(to));

  auto add_events = [&](const std::vector<SyncEvent>& events, auto* out) -> absl::Status {
    for (const SyncEvent& e : events) {
      if (e.client_json && !IsOwnEcho(e, query.user_id, query.device_id)) {
        out->Add(std::string(*e.client_json));
        continue;
      }
      PERISCOPE_ASSIGN_OR_RETURN(matrix::Json json, ClientEvent(e, query.user_id, query.device_id));
      out->Add(json.dump());
    }
    return absl::OkStatus();
  };
  // State events to send with a timeline: `state` minus what the timeline itself carries. The
  // current state is read after `to` was fixed, so it may hold events applied since; those are
  // left to the next sync's timeline, or a client would see them now and again then.
  auto state_outside = [to](const std::vector<SyncEvent>& state,
                            const std::vector<SyncEvent>& timeline, int64_t after) {
    std::set<std::string> in_timeline;
    for (const SyncEvent& e : timeline) in_timeline.insert(e.event_id);
    std::vector<SyncEvent> out;
    for (const SyncEvent& e : state) {
      if (e.pos > after && e.pos <= to && !in_timeline.contains(e.event_id)) out.push_back(e);
    }
    return out;
  };

  // Account data: global entries changed since the token (all of them initially) go to the top
  // level; room entries go with their joined room (all of them when the room first appears).
  PERISCOPE_ASSIGN_OR_RETURN(std::vector<AccountDataEntry> account_data,
                             store_.AccountDataChanges(query.user_id, 0, to));
  std::map<std::string, std::vector<const AccountDataEntry*>> room_account_data;
  for (const AccountDataEntry& entry : account_data) {
    if (!entry.room_id.empty()) {
      room_account_data[entry.room_id].push_back(&entry);
    } else if (query.initial || entry.pos > since) {
      response.add_account_data_json(AccountDataEventJson(entry));
      *empty = false;
    }
  }
  auto room_data_for = [&](const std::string& room_id, bool all) {
    std::vector<std::string> out;
    if (auto it = room_account_data.find(room_id); it != room_account_data.end()) {
      for (const AccountDataEntry* entry : it->second) {
        if (all || entry->pos > since) {
          out.push_back(AccountDataEventJson(*entry));
        }
      }
    }
    return out;
  };

  std::set<std::string> active;
  if (!query.initial) {
    PERISCOPE_ASSIGN_OR_RETURN(std::vector<std::string> rooms,
                               store_.ActiveRoomsOf(query.user_id, since, to));
    active.insert(rooms.begin(), rooms.end());
  }
  // The device's peeks; one the device had already seen at `since` lets a join continue from
  // there instead of starting the room afresh.
  std::map<std::string, const DevicePeek*> seen_peeks;
  for (const DevicePeek& p : peeks) {
    const bool seen = !query.initial && p.pos <= since && (!p.ended_pos || *p.ended_pos > since);
    if (seen) seen_peeks[p.room_id] = &p;
  }
  const int limit = query.filter.timeline_limit;

  // History visibility (sync/visibility.h): a timeline loses what its reader may not see. Who
  // reads: the user, with their membership history; or, for a peek, a non-member.
  // `visible_after` is a position after which the reader sees everything for sure (a joined
  // user's current join): a timeline wholly after it needs no lookup, which keeps the common
  // incremental sync free of queries.
  enum class Reader { kUser, kNonMember };
  auto visible = [&](const std::string& room_id, std::vector<SyncEvent> timeline, Reader reader,
                     int64_t visible_after) -> absl::StatusOr<std::vector<SyncEvent>> {
    if (timeline.empty() || timeline.front().pos > visible_after) return timeline;
    absl::StatusOr<RoomVisibility> v = reader == Reader::kUser
                                           ? RoomVisibility::ForUser(store_, room_id, query.user_id)
                                           : RoomVisibility::ForNonMember(store_, room_id);
    if (!v.ok()) return v.status();
    return v->Filter(std::move(timeline));
  };

  // A room in the shape of rooms.join (also rooms.peek): `fresh` rooms get their full state and
  // latest timeline, others what happened since the token. False if there is nothing to say.
  auto build_room = [&](const std::string& room_id, bool fresh, std::vector<std::string> room_data,
                        Reader reader, int64_t visible_after,
                        v1::JoinedRoom* room) -> absl::StatusOr<bool> {
    bool limited = false;
    PERISCOPE_ASSIGN_OR_RETURN(
        std::vector<SyncEvent> timeline,
        store_.RecentEvents(room_id, fresh ? 0 : since, to, limit, &limited));
    if (!fresh && !query.full_state) {
      // A message that changed the state through other events (the roomserver merged branches)
      // cannot be told in a timeline: clients apply `state` before the timeline, so a topic the
      // merge brought back would lose to a newer one earlier in the timeline. The timeline
      // restarts after the last such message, limited, and the merged state goes in `state`.
      auto merge = std::find_if(timeline.rbegin(), timeline.rend(),
                                [](const SyncEvent& e) { return e.merges_state; });
      if (merge != timeline.rend()) {
        timeline.erase(timeline.begin(), merge.base());
        limited = true;
      }
    }
    PERISCOPE_ASSIGN_OR_RETURN(timeline,
                               visible(room_id, std::move(timeline), reader, visible_after));
    // Full state for new rooms (and full_state); otherwise only state changed in the gap a
    // limited timeline skipped.
    const bool full = fresh || query.full_state;
    // The summary is sent when it may have changed (spec: it may be omitted otherwise); with
    // the gap state, it is the only reason to load the room's whole state, which for a busy
    // room is most of a sync's cost.
    const bool members_changed =
        std::any_of(timeline.begin(), timeline.end(),
                    [](const SyncEvent& e) { return e.type == "m.room.member"; });
    const bool need_state = full || limited || members_changed;
    std::vector<SyncEvent> state;
    if (need_state) {
      PERISCOPE_ASSIGN_OR_RETURN(state, store_.CurrentState(room_id));
    }
    timeline = Filtered(timeline, query.filter.timeline);
    std::vector<SyncEvent> state_part;
    if (full || limited) {
      state_part = StateFor(state_outside(state, timeline, full ? 0 : since), timeline,
                            query.filter.state, query.user_id);
    }
    if (timeline.empty() && state_part.empty() && !full && room_data.empty()) return false;
    for (std::string& data : room_data) room->add_account_data_json(std::move(data));
    PERISCOPE_RETURN_IF_ERROR(add_events(state_part, room->mutable_state_json()));
    PERISCOPE_RETURN_IF_ERROR(
        add_events(timeline, room->mutable_timeline()->mutable_events_json()));
    room->mutable_timeline()->set_limited(limited);
    room->mutable_timeline()->set_prev_batch(
        MakeSyncToken(timeline.empty() ? to : timeline.front().pos - 1));
    if (need_state) {
      int64_t joined = 0, invited = 0;
      for (const SyncEvent& e : state) {
        if (e.type != "m.room.member") continue;
        if (e.membership == "join") ++joined;
        if (e.membership == "invite") ++invited;
      }
      room->mutable_summary()->set_joined_member_count(joined);
      room->mutable_summary()->set_invited_member_count(invited);
      for (std::string& hero : Heroes(state, query.user_id)) {
        room->mutable_summary()->add_heroes(std::move(hero));
      }
    }
    return true;
  };

  std::set<std::string> joined_rooms;
  for (const RoomMembership& m : memberships) {
    const bool changed = !query.initial && m.pos > since;
    if (m.membership == "join") {
      joined_rooms.insert(m.room_id);
      // A join after a peek the device had seen continues the room: no state resent.
      const bool newly_joined = query.initial || (changed && !seen_peeks.contains(m.room_id));
      std::vector<std::string> room_data = room_data_for(m.room_id, newly_joined);
      if (!newly_joined && !changed && !active.contains(m.room_id) && !query.full_state &&
          room_data.empty()) {
        continue;
      }
      v1::JoinedRoom room;
      PERISCOPE_ASSIGN_OR_RETURN(bool any, build_room(m.room_id, newly_joined, std::move(room_data),
                                                      Reader::kUser, m.pos, &room));
      if (!any) continue;
      (*response.mutable_join())[m.room_id] = std::move(room);
      *empty = false;
    } else if (m.membership == "invite" && (query.initial || changed)) {
      PERISCOPE_ASSIGN_OR_RETURN(std::vector<SyncEvent> state, store_.CurrentState(m.room_id));
      v1::InvitedRoom& room = (*response.mutable_invite())[m.room_id];
      static const std::set<std::string> kStripped = {
          "m.room.create",          "m.room.join_rules", "m.room.name", "m.room.avatar",
          "m.room.canonical_alias", "m.room.encryption", "m.room.topic"};
      // An invite from another server into a room this server is not in carries the stripped
      // state that server sent (the roomserver put it in unsigned.invite_room_state): the room's
      // state here is the invite alone.
      bool given = false;
      for (const SyncEvent& e : state) {
        if (e.type != "m.room.member" || e.state_key != query.user_id) continue;
        absl::StatusOr<matrix::Json> invite = matrix::ParseJson(e.event_json);
        if (!invite.ok()) break;
        const matrix::Json& sent =
            matrix::JsonField(matrix::JsonField(*invite, "unsigned"), "invite_room_state");
        if (!sent.is_array()) break;
        given = true;
        for (const matrix::Json& stripped : sent) {
          if (stripped.is_object()) room.add_invite_state_json(stripped.dump());
        }
      }
      for (const SyncEvent& e : state) {
        const bool own_invite = e.type == "m.room.member" && e.state_key == query.user_id;
        if ((given || !kStripped.contains(e.type)) && !own_invite) continue;
        PERISCOPE_ASSIGN_OR_RETURN(matrix::Json stripped, StrippedStateEvent(e));
        room.add_invite_state_json(stripped.dump());
      }
      *empty = false;
    } else if ((m.membership == "leave" || m.membership == "ban") && changed) {
      // Only what the user could see: someone who never joined (a rejected invite, a ban
      // without a join) gets their own membership event and nothing of the room's history.
      bool limited = false;
      PERISCOPE_ASSIGN_OR_RETURN(std::vector<SyncEvent> timeline,
                                 store_.RecentEvents(m.room_id, since, m.pos, limit, &limited));
      PERISCOPE_ASSIGN_OR_RETURN(timeline, visible(m.room_id, std::move(timeline), Reader::kUser,
                                                   std::numeric_limits<int64_t>::max()));
      v1::LeftRoom& room = (*response.mutable_leave())[m.room_id];
      PERISCOPE_RETURN_IF_ERROR(
          add_events(timeline, room.mutable_timeline()->mutable_events_json()));
      room.mutable_timeline()->set_limited(limited);
      room.mutable_timeline()->set_prev_batch(
          MakeSyncToken(timeline.empty() ? m.pos : timeline.front().pos - 1));
      *empty = false;
    }
  }

  // Peeks (MSC2753): a live one appears in rooms.peek, in full the first time; an ended one the
  // device had seen appears once in rooms.leave with the events up to its end (unless it ended
  // in a join, which rooms.join carries on).
  for (const DevicePeek& p : peeks) {
    if (joined_rooms.contains(p.room_id)) continue;
    if (!p.ended_pos) {
      const bool fresh = query.initial || p.pos > since;
      if (!fresh && !query.full_state) {
        bool any_new = false;
        PERISCOPE_ASSIGN_OR_RETURN(std::vector<SyncEvent> probe,
                                   store_.RecentEvents(p.room_id, since, to, 1, &any_new));
        if (probe.empty()) continue;
      }
      v1::JoinedRoom room;
      PERISCOPE_ASSIGN_OR_RETURN(bool any, build_room(p.room_id, fresh, {}, Reader::kNonMember,
                                                      std::numeric_limits<int64_t>::max(), &room));
      if (!any) continue;
      (*response.mutable_peek())[p.room_id] = std::move(room);
      *empty = false;
    } else if (seen_peeks.contains(p.room_id) && p.ended_reason != "joined") {
      bool limited = false;
      PERISCOPE_ASSIGN_OR_RETURN(
          std::vector<SyncEvent> timeline,
          store_.RecentEvents(p.room_id, since, *p.ended_pos, limit, &limited));
      PERISCOPE_ASSIGN_OR_RETURN(timeline,
                                 visible(p.room_id, std::move(timeline), Reader::kNonMember,
                                         std::numeric_limits<int64_t>::max()));
      v1::LeftRoom& room = (*response.mutable_leave())[p.room_id];
      PERISCOPE_RETURN_IF_ERROR(
          add_events(timeline, room.mutable_timeline()->mutable_events_json()));
      room.mutable_timeline()->set_limited(limited);
      room.mutable_timeline()->set_prev_batch(
          MakeSyncToken(timeline.empty() ? *p.ended_pos : timeline.front().pos - 1));
      *empty = false;
    }
  }
  return response;
}

}  // namespace periscope::syncapi
