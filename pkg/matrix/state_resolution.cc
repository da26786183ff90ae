#include "pkg/matrix/state_resolution.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <set>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/matrix/auth_rules.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/power_levels.h"
#include "pkg/matrix/topological_sort.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

// An event of the resolution, with the fields the algorithm reads pulled out once.
struct Node {
  std::string id;
  const ResolvableEvent* source = nullptr;
  std::string type;
  bool is_state = false;
  std::string state_key;
  std::string sender;
  int64_t ts = 0;
  bool rejected = false;
  std::vector<std::string> auth_ids;
  // The known auth events, filled on first use.
  std::vector<int> auth;
  bool auth_loaded = false;
  // Scratch for the auth-chain walks.
  int walk_mark = 0;
  int chains_holding = 0;

  bool IsPowerLevels() const {
    return is_state && type == "m.room.power_levels" && state_key.empty();
  }
  bool IsCreate() const { return is_state && type == "m.room.create" && state_key.empty(); }
  StateKey Key() const { return StateKey(type, state_key); }
};

// The events of one resolution, interned as indices and loaded from the caller's source on demand.
class EventGraph {
 public:
  EventGraph(absl::string_view room_id, int room_version, ResolvableEvents& source)
      : room_id_(room_id), version_(room_version), source_(source) {}

  // The event's index, or -1 if the source does not know it.
  absl::StatusOr<int> Index(absl::string_view id) {
    if (auto it = index_.find(id); it != index_.end()) return it->second;
    const ResolvableEvent* found = source_.Find(id);
    if (found == nullptr) {
      index_.emplace(std::string(id), -1);
      return -1;
    }
    Node node;
    node.id = std::string(id);
    node.source = found;
    const Json& event = found->event;
    node.type = StringField(event, "type");
    const Json& state_key = JsonField(event, "state_key");
    node.is_state = state_key.is_string();
    if (node.is_state) node.state_key = state_key.get<std::string>();
    node.sender = StringField(event, "sender");
    const Json& ts = JsonField(event, "origin_server_ts");
    node.ts = ts.is_number_integer() ? ts.get<int64_t>() : 0;
    node.rejected = found->rejected;
    node.auth_ids = AuthEventIdsOf(event, version_);
    PERISCOPE_RETURN_IF_ERROR(CheckRoom(node));
    int index = static_cast<int>(nodes_.size());
    nodes_.push_back(std::move(node));
    index_.emplace(std::string(id), index);
    return index;
  }

  // The known auth events of node `n` (unknown ones are left out, as Synapse does).
  absl::StatusOr<const std::vector<int>*> AuthOf(int n) {
    if (!nodes_[n].auth_loaded) {
      std::vector<int> auth;
      for (const std::string& id : nodes_[n].auth_ids) {
        PERISCOPE_ASSIGN_OR_RETURN(int index, Index(id));
        if (index >= 0) auth.push_back(index);
      }
      nodes_[n].auth = std::move(auth);
      nodes_[n].auth_loaded = true;
    }
    return &nodes_[n].auth;
  }

  Node& operator[](int n) { return nodes_[n]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  int version() const { return version_; }

 private:
  absl::Status CheckRoom(const Node& node) const {
    const Json& room = JsonField(node.source->event, "room_id");
    // A room version 12 create event has no room_id: its id names the room.
    if (room.is_null() && version_ >= 12 && node.IsCreate() &&
        node.id == CreateEventIdOfRoom(room_id_)) {
      return absl::OkStatus();
    }
    if (room.is_string() && room.get<std::string>() == room_id_) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("state resolution of room ", room_id_,
                                                      " read event ", node.id, " of another room"));
  }

  std::string room_id_;
  int version_;
  ResolvableEvents& source_;
  // A deque, so that references to nodes survive loading more of them.
  std::deque<Node> nodes_;
  absl::flat_hash_map<std::string, int> index_;
};

// Synapse's _seperate: a key is unconflicted only if every map holds it with the same event.
// The maps are sorted, so one merge walk over all of them does it without a lookup per key.
void Separate(const std::vector<StateMap>& states, StateMap& unconflicted,
              std::set<std::string>& conflicted) {
  std::vector<StateMap::const_iterator> at, end;
  for (const StateMap& state : states) {
    at.push_back(state.begin());
    end.push_back(state.end());
  }
  const size_t n = states.size();
  while (true) {
    const StateKey* key = nullptr;
    for (size_t i = 0; i < n; ++i) {
      if (at[i] != end[i] && (key == nullptr || at[i]->first < *key)) key = &at[i]->first;
    }
    if (key == nullptr) break;
    const std::string* first = nullptr;
    size_t holding = 0;
    bool same = true;
    for (size_t i = 0; i < n; ++i) {
      if (at[i] == end[i] || at[i]->first != *key) continue;
      ++holding;
      if (first == nullptr) {
        first = &at[i]->second;
      } else if (*first != at[i]->second) {
        same = false;
      }
    }
    if (same && holding == n) {
      unconflicted.emplace_hint(unconflicted.end(), *key, *first);
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (at[i] != end[i] && at[i]->first == *key) conflicted.insert(at[i]->second);
      }
    }
    // Advance every map past the key (copied first: `key` points into one of them).
    const StateKey current = *key;
    for (size_t i = 0; i < n; ++i) {
      if (at[i] != end[i] && at[i]->first == current) ++at[i];
    }
  }
}

// The state the iterative auth checks build: changes over a base (the unconflicted map in v2,
// nothing in v2.1), so that a room's 10,000 unconflicted entries are neither copied nor written.
class PartialState {
 public:
  explicit PartialState(const StateMap* base) : base_(base) {}
  const std::string* Find(const StateKey& key) const {
    if (auto it = changes_.find(key); it != changes_.end()) return &it->second;
    if (base_ != nullptr) {
      if (auto it = base_->find(key); it != base_->end()) return &it->second;
    }
    return nullptr;
  }
  void Set(const StateKey& key, const std::string& event_id) {
    changes_.insert_or_assign(key, event_id);
  }
  // The unconflicted map with the changes of keys it does not hold (its own entries win).
  StateMap Resolved(const StateMap& unconflicted) const {
    StateMap out = unconflicted;
    for (const auto& [key, id] : changes_) out.emplace(key, id);
    return out;
  }

 private:
  const StateMap* base_;
  StateMap changes_;
};

class Resolver {
 public:
  explicit Resolver(EventGraph& graph) : graph_(graph) {}

  absl::StatusOr<StateMap> Resolve(const std::vector<StateMap>& states) {
    StateMap unconflicted;
    std::set<std::string> conflicted_ids;
    Separate(states, unconflicted, conflicted_ids);
    if (conflicted_ids.empty()) return unconflicted;

    std::vector<int> conflicted;
    for (const std::string& id : conflicted_ids) {
      PERISCOPE_ASSIGN_OR_RETURN(int index, graph_.Index(id));
      if (index >= 0) conflicted.push_back(index);
    }
    std::set<int> full_conflicted(conflicted.begin(), conflicted.end());
    PERISCOPE_RETURN_IF_ERROR(AddAuthDifference(states, full_conflicted));
    if (graph_.version() >= 12) {
      PERISCOPE_RETURN_IF_ERROR(AddConflictedSubgraph(conflicted, full_conflicted));
    }

    PERISCOPE_ASSIGN_OR_RETURN(std::vector<int> power_order, PowerOrder(full_conflicted));
    // Version 2 starts the checks from the unconflicted state; 2.1 from nothing, so that a bogus
    // unconflicted state cannot be what the power events are authorised against.
    PartialState resolved(graph_.version() >= 12 ? nullptr : &unconflicted);
    PERISCOPE_RETURN_IF_ERROR(IterativeAuthChecks(power_order, resolved));

    std::set<int> placed(power_order.begin(), power_order.end());
    std::vector<int> others;
    for (int n : full_conflicted) {
      if (!placed.contains(n)) others.push_back(n);
    }
    PERISCOPE_RETURN_IF_ERROR(MainlineSort(resolved, others));
    PERISCOPE_RETURN_IF_ERROR(IterativeAuthChecks(others, resolved));

    return resolved.Resolved(unconflicted);
  }

 private:
  // The auth difference: events in some states' full auth chains but not all. As in Synapse, a
  // state's own events are part of its chain.
  absl::Status AddAuthDifference(const std::vector<StateMap>& states, std::set<int>& out) {
    const int first_mark = ++walk_generation_;
    for (const StateMap& state : states) {
      const int mark = walk_generation_++;
      std::vector<int> stack;
      for (const auto& [key, id] : state) {
        PERISCOPE_ASSIGN_OR_RETURN(int index, graph_.Index(id));
        if (index >= 0) stack.push_back(index);
      }
      while (!stack.empty()) {
        int n = stack.back();
        stack.pop_back();
        if (graph_[n].walk_mark == mark) continue;
        // A node first reached in this resolution may carry a count from an older one.
        if (graph_[n].walk_mark < first_mark) graph_[n].chains_holding = 0;
        graph_[n].walk_mark = mark;
        ++graph_[n].chains_holding;
        PERISCOPE_ASSIGN_OR_RETURN(const std::vector<int>* auth, graph_.AuthOf(n));
        for (int a : *auth) {
          if (graph_[a].walk_mark != mark) stack.push_back(a);
        }
      }
    }
    const int sets = static_cast<int>(states.size());
    for (int n = 0; n < graph_.size(); ++n) {
      const Node& node = graph_[n];
      if (node.walk_mark >= first_mark && node.chains_holding > 0 && node.chains_holding < sets) {
        out.insert(n);
      }
    }
    return absl::OkStatus();
  }

  // Version 2.1: every event on an auth_events path from one conflicted event to another.
  absl::Status AddConflictedSubgraph(const std::vector<int>& conflicted, std::set<int>& out) {
    std::set<int> is_conflicted(conflicted.begin(), conflicted.end());
    // Post-order over everything reachable from a conflicted event, auth events first, so that
    // "reaches a conflicted event" is known for a node's auth events before the node itself.
    absl::flat_hash_map<int, bool> reaches;
    std::vector<std::pair<int, bool>> stack;
    for (int c : conflicted) stack.emplace_back(c, false);
    while (!stack.empty()) {
      auto [n, expanded] = stack.back();
      stack.pop_back();
      if (expanded) {
        bool result = is_conflicted.contains(n);
        PERISCOPE_ASSIGN_OR_RETURN(const std::vector<int>* auth, graph_.AuthOf(n));
        for (int a : *auth) result = result || reaches[a];
        reaches[n] = result;
        continue;
      }
      if (reaches.contains(n)) continue;
      reaches[n] = false;  // visiting; auth chains are acyclic, so it is never read before set
      stack.emplace_back(n, true);
      PERISCOPE_ASSIGN_OR_RETURN(const std::vector<int>* auth, graph_.AuthOf(n));
      for (int a : *auth) {
        if (!reaches.contains(a)) stack.emplace_back(a, false);
      }
    }
    for (const auto& [n, reached] : reaches) {
      if (reached) out.insert(n);
    }
    return absl::OkStatus();
  }

  // The sender's power level by the event's own auth events (not the resolved state), as the
  // reverse topological power ordering compares them.
  absl::StatusOr<int64_t> SenderPower(int n) {
    PERISCOPE_ASSIGN_OR_RETURN(const std::vector<int>* auth, graph_.AuthOf(n));
    const Node* power_levels = nullptr;
    const Node* create = nullptr;
    for (int a : *auth) {
      if (graph_[a].IsPowerLevels()) power_levels = &graph_[a];
      if (graph_[a].IsCreate() && create == nullptr) create = &graph_[a];
    }
    const Node& event = graph_[n];
    const int version = graph_.version();
    if (version >= 12 && create != nullptr) {
      for (const std::string& creator : RoomCreators(create->source->event, version)) {
        if (creator == event.sender) return PowerLevels::kCreatorLevel;
      }
    }
    if (power_levels == nullptr) {
      return create != nullptr && RoomCreator(create->source->event, version) == event.sender ? 100
                                                                                              : 0;
    }
    const Json& content = ContentOf(power_levels->source->event);
    const Json* level = &JsonField(JsonField(content, "users"), event.sender.c_str());
    if (level->is_null()) level = &JsonField(content, "users_default");
    if (level->is_number_integer()) return level->get<int64_t>();
    int64_t parsed = 0;
    if (level->is_string() && absl::SimpleAtoi(level->get<std::string>(), &parsed)) return parsed;
    return 0;
  }

  // The power events of the full conflicted set and, through edges inside that set, their auth
  // events, in reverse topological power order: auth events first, then higher sender power,
  // earlier origin_server_ts, smaller event id.
  absl::StatusOr<std::vector<int>> PowerOrder(const std::set<int>& full_conflicted) {
    absl::flat_hash_map<int, int> position;  // node -> position in `members`
    std::vector<int> members;
    std::vector<std::vector<int>> depends_on;
    std::vector<int> stack;
    for (int n : full_conflicted) {
      if (IsPowerEvent(graph_[n])) stack.push_back(n);
    }
    auto add = [&](int n) {
      position.emplace(n, static_cast<int>(members.size()));
      members.push_back(n);
      depends_on.emplace_back();
    };
    for (int n : stack) add(n);
    for (size_t i = 0; i < members.size(); ++i) {
      PERISCOPE_ASSIGN_OR_RETURN(const std::vector<int>* auth, graph_.AuthOf(members[i]));
      for (int a : *auth) {
        if (!full_conflicted.contains(a)) continue;
        if (!position.contains(a)) add(a);
        depends_on[i].push_back(position[a]);
      }
    }
    std::vector<std::tuple<int64_t, int64_t, const std::string*>> sort_key;
    sort_key.reserve(members.size());
    for (int n : members) {
      PERISCOPE_ASSIGN_OR_RETURN(int64_t power, SenderPower(n));
      sort_key.emplace_back(-power, graph_[n].ts, &graph_[n].id);
    }
    auto less = [&sort_key](int a, int b) {
      const auto& [power_a, ts_a, id_a] = sort_key[a];
      const auto& [power_b, ts_b, id_b] = sort_key[b];
      return std::tie(power_a, ts_a, *id_a) < std::tie(power_b, ts_b, *id_b);
    };
    std::vector<int> order = LexicographicalTopologicalSort(depends_on, less);
    for (int& i : order) i = members[i];
    return order;
  }

  static bool IsPowerEvent(const Node& node) {
    if (!node.is_state) return false;
    if (node.state_key.empty() &&
        (node.type == "m.room.power_levels" || node.type == "m.room.join_rules" ||
         node.type == "m.room.create")) {
      return true;
    }
    if (node.type != "m.room.member") return false;
    std::string membership = StringField(ContentOf(node.source->event), "membership");
    return (membership == "leave" || membership == "ban") && node.sender != node.state_key;
  }

  // The first m.room.power_levels among the node's auth events, or -1.
  absl::StatusOr<int> PowerLevelsAuthEvent(int n) {
    PERISCOPE_ASSIGN_OR_RETURN(const std::vector<int>* auth, graph_.AuthOf(n));
    for (int a : *auth) {
      if (graph_[a].IsPowerLevels()) return a;
    }
    return -1;
  }

  // Orders `events` by mainline position under the resolved power levels (older mainline base
  // first; an event with no power levels on the mainline first of all), then origin_server_ts,
  // then event id.
  absl::Status MainlineSort(const PartialState& resolved, std::vector<int>& events) {
    if (events.empty()) return absl::OkStatus();
    std::vector<int> mainline;
    if (const std::string* id = resolved.Find(StateKey("m.room.power_levels", ""))) {
      PERISCOPE_ASSIGN_OR_RETURN(int pl, graph_.Index(*id));
      std::set<int> seen;
      while (pl >= 0 && seen.insert(pl).second) {
        mainline.push_back(pl);
        PERISCOPE_ASSIGN_OR_RETURN(pl, PowerLevelsAuthEvent(pl));
      }
    }
    // Synapse's encoding: the oldest mainline event has depth 1, the resolved one the largest,
    // and an event that reaches none of them 0.
    absl::flat_hash_map<int, int64_t> depth;
    for (size_t i = 0; i < mainline.size(); ++i) {
      depth[mainline[i]] = static_cast<int64_t>(mainline.size() - i);
    }
    absl::flat_hash_map<int, int64_t> event_depth;
    for (int n : events) {
      // Walk the event's power-levels chain until it meets the mainline.
      std::vector<int> walked;
      int at = n;
      int64_t found = 0;
      std::set<int> seen;
      while (at >= 0 && seen.insert(at).second) {
        if (auto it = depth.find(at); it != depth.end()) {
          found = it->second;
          break;
        }
        walked.push_back(at);
        PERISCOPE_ASSIGN_OR_RETURN(at, PowerLevelsAuthEvent(at));
      }
      // Every power-levels event on the walk meets the mainline at the same place.
      for (int w : walked) {
        if (graph_[w].IsPowerLevels()) depth.emplace(w, found);
      }
      event_depth[n] = found;
    }
    std::sort(events.begin(), events.end(), [&](int a, int b) {
      return std::tie(event_depth.at(a), graph_[a].ts, graph_[a].id) <
             std::tie(event_depth.at(b), graph_[b].ts, graph_[b].id);
    });
    return absl::OkStatus();
  }

  // Applies `order` to `state`: each event passing the auth rules against the state so far (or,
  // for keys the state lacks, its own non-rejected auth events) replaces its key; others are
  // skipped.
  absl::Status IterativeAuthChecks(const std::vector<int>& order, PartialState& state) {
    const int version = graph_.version();
    for (int n : order) {
      const Node& event = graph_[n];
      if (!event.is_state || event.rejected) continue;
      AuthEvents auth;
      PERISCOPE_ASSIGN_OR_RETURN(const std::vector<int>* own_auth, graph_.AuthOf(n));
      for (int a : *own_auth) {
        const Node& auth_event = graph_[a];
        if (auth_event.rejected) continue;
        // A malformed (non-state) auth event cannot be keyed, so it authorises nothing.
        auth.Put(auth_event.id, auth_event.source->event).IgnoreError();
      }
      for (const StateKey& key : AuthStateKeysFor(event.source->event, version)) {
        const std::string* id = state.Find(key);
        if (id == nullptr) continue;
        PERISCOPE_ASSIGN_OR_RETURN(int index, graph_.Index(*id));
        if (index < 0 || graph_[index].rejected) continue;
        auth.Put(graph_[index].id, graph_[index].source->event).IgnoreError();
      }
      if (CheckAuthRules(event.source->event, auth, version).ok()) {
        state.Set(event.Key(), event.id);
      }
    }
    return absl::OkStatus();
  }

  EventGraph& graph_;
  int walk_generation_ = 0;
};

}  // namespace

absl::StatusOr<StateMap> ResolveState(absl::string_view room_id, int room_version,
                                      const std::vector<StateMap>& states,
                                      ResolvableEvents& events) {
  if (states.empty()) return StateMap();
  if (states.size() == 1) return states.front();
  EventGraph graph(room_id, room_version, events);
  Resolver resolver(graph);
  return resolver.Resolve(states);
}

}  // namespace periscope::matrix
