// State resolution v2 and v2.1 on hand-built DAGs: the classic cases of Synapse's
// tests/state/test_v2.py and test_v21.py, rebuilt the way Synapse's do_check builds them, plus
// cases that catch the known wrong turns of other implementations, and order-independence
// properties on random forked rooms.

#include "pkg/matrix/state_resolution.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pkg/matrix/json_fields.h"
#include "pkg/matrix/topological_sort.h"

namespace periscope::matrix {
namespace {

constexpr char kRoom[] = "!test:example.com";

std::string User(absl::string_view name) { return absl::StrCat("@", name, ":example.com"); }
std::string EventId(absl::string_view node) { return absl::StrCat("$", node, ":example.com"); }

class FakeEvents : public ResolvableEvents {
 public:
  const ResolvableEvent* Find(absl::string_view event_id) override {
    auto it = events_.find(std::string(event_id));
    return it == events_.end() ? nullptr : &it->second;
  }
  void Add(const std::string& id, Json event, bool rejected = false) {
    events_[id] = ResolvableEvent{std::move(event), rejected};
  }
  const Json& Get(const std::string& id) const { return events_.at(id).event; }

 private:
  std::map<std::string, ResolvableEvent> events_;
};

// An event of a test DAG before its prev and auth events are known (Synapse's FakeEvent).
struct FakeEvent {
  std::string node;
  std::string sender;  // a bare name: "alice"
  std::string type;
  std::optional<std::string> state_key;
  Json content = Json::object();
};

FakeEvent Member(absl::string_view node, absl::string_view sender, absl::string_view membership,
                 std::optional<std::string> target = std::nullopt) {
  return {std::string(node), std::string(sender), "m.room.member",
          target ? User(*target) : User(sender), Json{{"membership", std::string(membership)}}};
}
FakeEvent PowerLevelsEvent(absl::string_view node, absl::string_view sender, Json content) {
  return {std::string(node), std::string(sender), "m.room.power_levels", "", std::move(content)};
}
FakeEvent Topic(absl::string_view node, absl::string_view sender) {
  return {std::string(node), std::string(sender), "m.room.topic", "", Json::object()};
}
FakeEvent JoinRules(absl::string_view node, absl::string_view sender, Json content) {
  return {std::string(node), std::string(sender), "m.room.join_rules", "", std::move(content)};
}
FakeEvent Message(absl::string_view node, absl::string_view sender) {
  return {std::string(node), std::string(sender), "m.room.message", std::nullopt, Json::object()};
}
Json Users(std::initializer_list<std::pair<const char*, int>> levels) {
  Json users = Json::object();
  for (const auto& [name, level] : levels) users[User(name)] = level;
  return {{"users", users}};
}

// Synapse's INITIAL_EVENTS and INITIAL_EDGES: alice creates a public room that bob, charlie and
// zara join; START is zara's message after that.
std::vector<FakeEvent> BaseEvents() {
  return {
      {"CREATE", "alice", "m.room.create", "", Json{{"creator", User("alice")}}},
      Member("IMA", "alice", "join"),
      PowerLevelsEvent("IPOWER", "alice", Users({{"alice", 100}})),
      JoinRules("IJR", "alice", Json{{"join_rule", "public"}}),
      Member("IMB", "bob", "join"),
      Member("IMC", "charlie", "join"),
      Member("IMZ", "zara", "join"),
      Message("START", "zara"),
  };
}
const std::vector<std::string> kBaseEdges = {"START", "IMZ",    "IMC", "IMB",
                                             "IJR",   "IPOWER", "IMA", "CREATE"};

// Builds a DAG the way Synapse's do_check does: nodes are processed parents first (ties by node
// name); the state before a node is its parent's state after, or the resolution of its parents'
// states; its auth events are what the auth-events selection finds in that state; its
// origin_server_ts is its place in the definition order (base events, the test's, then END).
class Dag {
 public:
  Dag(std::vector<FakeEvent> events, const std::vector<std::vector<std::string>>& edges,
      int room_version = 10)
      : version_(room_version) {
    std::vector<FakeEvent> all = BaseEvents();
    all.insert(all.end(), events.begin(), events.end());
    all.push_back(Message("END", "zara"));
    std::map<std::string, std::vector<std::string>> prevs;
    for (size_t i = 0; i < all.size(); ++i) prevs[all[i].node];
    auto add_chain = [&](const std::vector<std::string>& chain) {
      for (size_t i = 0; i + 1 < chain.size(); ++i) prevs[chain[i]].push_back(chain[i + 1]);
    };
    add_chain(kBaseEdges);
    for (const auto& chain : edges) add_chain(chain);

    std::vector<std::string> names;
    std::map<std::string, int> index;
    for (const auto& [name, unused] : prevs) {
      index[name] = static_cast<int>(names.size());
      names.push_back(name);
    }
    std::vector<std::vector<int>> depends_on(names.size());
    for (const auto& [name, parents] : prevs) {
      for (const std::string& parent : parents) depends_on[index[name]].push_back(index[parent]);
    }
    std::vector<int> order = LexicographicalTopologicalSort(
        depends_on, [&](int a, int b) { return names[a] < names[b]; });
    EXPECT_EQ(order.size(), names.size()) << "the test DAG has a cycle";

    std::map<std::string, size_t> ts;
    for (size_t i = 0; i < all.size(); ++i) ts[all[i].node] = i;
    for (int i : order) {
      const std::string& name = names[i];
      const FakeEvent& fake =
          *std::find_if(all.begin(), all.end(), [&](const FakeEvent& e) { return e.node == name; });
      std::vector<StateMap> parent_states;
      for (const std::string& parent : prevs[name]) parent_states.push_back(after_.at(parent));
      absl::StatusOr<StateMap> before = ResolveState(kRoom, version_, parent_states, events_);
      if (!before.ok()) {
        ADD_FAILURE() << before.status();
        return;
      }

      Json event = {{"type", fake.type},       {"sender", User(fake.sender)},  {"room_id", kRoom},
                    {"content", fake.content}, {"origin_server_ts", ts[name]}, {"depth", 1}};
      if (fake.state_key) event["state_key"] = *fake.state_key;
      Json prev_ids = Json::array();
      for (const std::string& parent : prevs[name]) prev_ids.push_back(EventId(parent));
      event["prev_events"] = prev_ids;
      Json auth_ids = Json::array();
      for (const StateKey& key : AuthEventKeysFor(event, version_)) {
        if (auto it = before->find(key); it != before->end()) auth_ids.push_back(it->second);
      }
      event["auth_events"] = auth_ids;
      events_.Add(EventId(name), event);

      StateMap after = *before;
      if (fake.state_key) after[StateKey(fake.type, *fake.state_key)] = EventId(name);
      after_[name] = std::move(after);
    }
  }

  // Synapse's assertion: the state at END, on the keys the expectation names or that changed
  // since START, must be exactly the expected events.
  void ExpectEndState(const std::vector<std::string>& expected_nodes) const {
    StateMap expected;
    for (const std::string& node : expected_nodes) {
      const Json& event = events_.Get(EventId(node));
      expected[StateKey(StringField(event, "type"), StringField(event, "state_key"))] =
          EventId(node);
    }
    const StateMap& start = after_.at("START");
    StateMap end;
    for (const auto& [key, id] : after_.at("END")) {
      auto at_start = start.find(key);
      if (expected.contains(key) || at_start == start.end() || at_start->second != id) {
        end[key] = id;
      }
    }
    EXPECT_EQ(end, expected);
  }

  const StateMap& After(const std::string& node) const { return after_.at(node); }
  FakeEvents& events() { return events_; }

 private:
  int version_;
  FakeEvents events_;
  std::map<std::string, StateMap> after_;
};

TEST(LexicographicalTopologicalSortTest, SmallestAvailableNodeFirst) {
  // Synapse's LexicographicalTestCase.test_simple: l->{o}, m->{n,o}, n->{o}, o->{}, p->{o}.
  std::vector<std::string> names = {"l", "m", "n", "o", "p"};
  std::vector<std::vector<int>> depends_on = {{3}, {2, 3}, {3}, {}, {3}};
  std::vector<int> order =
      LexicographicalTopologicalSort(depends_on, [&](int a, int b) { return names[a] < names[b]; });
  std::string got;
  for (int i : order) got += names[i];
  EXPECT_EQ(got, "olnmp");
}

TEST(LexicographicalTopologicalSortTest, ACycleLeavesItsNodesOut) {
  std::vector<std::vector<int>> depends_on = {{1}, {0}, {}};
  EXPECT_EQ(LexicographicalTopologicalSort(depends_on, std::less<int>()), std::vector<int>{2});
}

TEST(StateResolutionV2Test, BanBeatsAConcurrentPowerLevelChangeByTheBannedUser) {
  Dag dag(
      {
          PowerLevelsEvent("PA", "alice", Users({{"alice", 100}, {"bob", 50}})),
          Member("MA", "alice", "join"),
          Member("MB", "alice", "ban", "bob"),
          PowerLevelsEvent("PB", "bob", Users({{"alice", 100}, {"bob", 50}})),
      },
      {{"END", "MB", "MA", "PA", "START"}, {"END", "PB", "PA"}});
  dag.ExpectEndState({"PA", "MA", "MB"});
}

TEST(StateResolutionV2Test, AJoinOnABranchThatMissedTheJoinRuleChangeIsDropped) {
  Dag dag(
      {
          // "join_rules" (sic), as in Synapse's test: any rule but "public" refuses the join.
          JoinRules("JR", "alice", Json{{"join_rules", "private"}}),
          Member("ME", "evelyn", "join"),
      },
      {{"END", "JR", "START"}, {"END", "ME", "START"}});
  dag.ExpectEndState({"JR"});
}

TEST(StateResolutionV2Test, OffTopicPowerLevelsNeedTheAuthDifferenceReplayed) {
  Dag dag(
      {
          PowerLevelsEvent("PA", "alice", Users({{"alice", 100}, {"bob", 50}})),
          PowerLevelsEvent("PB", "bob", Users({{"alice", 100}, {"bob", 50}, {"charlie", 50}})),
          PowerLevelsEvent("PC", "charlie", Users({{"alice", 100}, {"bob", 50}, {"charlie", 0}})),
      },
      {{"END", "PC", "PB", "PA", "START"}, {"END", "PA"}});
  dag.ExpectEndState({"PC"});
}

// test_topic_basic's events; test_topic adds to them.
std::vector<FakeEvent> TopicBasicEvents() {
  return {
      Topic("T1", "alice"),
      PowerLevelsEvent("PA1", "alice", Users({{"alice", 100}, {"bob", 50}})),
      PowerLevelsEvent("PB", "bob", Users({{"alice", 100}, {"bob", 50}})),
      Topic("T2", "alice"),
      PowerLevelsEvent("PA2", "alice", Users({{"alice", 100}, {"bob", 0}})),
      Topic("T3", "bob"),
  };
}

TEST(StateResolutionV2Test, TopicBasic) {
  Dag dag(TopicBasicEvents(),
          {{"END", "PA2", "T2", "PA1", "T1", "START"}, {"END", "T3", "PB", "PA1"}});
  dag.ExpectEndState({"PA2", "T2"});
}

TEST(StateResolutionV2Test, ABannedUsersTopicIsResetToTheEarlierTopic) {
  Dag dag(
      {
          Topic("T1", "alice"),
          PowerLevelsEvent("PA", "alice", Users({{"alice", 100}, {"bob", 50}})),
          Topic("T2", "bob"),
          Member("MB", "alice", "ban", "bob"),
      },
      {{"END", "MB", "T2", "PA", "T1", "START"}, {"END", "T1"}});
  dag.ExpectEndState({"T1", "MB", "PA"});
}

TEST(StateResolutionV2Test, TopicAcrossTwoResolutions) {
  std::vector<FakeEvent> events = TopicBasicEvents();
  events.push_back(Message("MZ1", "zara"));
  events.push_back(Topic("T4", "alice"));
  Dag dag(events, {{"END", "T4", "MZ1", "PA2", "T2", "PA1", "T1", "START"},
                   {"END", "MZ1", "T3", "PB", "PA1"}});
  // At MZ1 the fork resolves as in TopicBasic.
  EXPECT_EQ(dag.After("MZ1").at(StateKey("m.room.topic", "")), EventId("T2"));
  dag.ExpectEndState({"T4", "PA2"});
}

TEST(StateResolutionV2Test, MainlineOrderBeatsTimestamps) {
  Json pa2 = Users({{"alice", 100}, {"bob", 50}});
  pa2["events"] = {{"m.room.power_levels", 100}};
  Dag dag(
      {
          Topic("T1", "alice"),
          PowerLevelsEvent("PA1", "alice", Users({{"alice", 100}, {"bob", 50}})),
          PowerLevelsEvent("PB", "bob", Users({{"alice", 100}, {"bob", 50}})),
          Topic("T2", "alice"),
          PowerLevelsEvent("PA2", "alice", pa2),
          Topic("T3", "bob"),
          Topic("T4", "alice"),
      },
      {{"END", "T3", "PA2", "T2", "PA1", "T1", "START"}, {"END", "T4", "PB", "PA1"}});
  dag.ExpectEndState({"T3", "PA2"});
}

// The reference's extra case 1: forward Kahn (smallest first) orders P0, JRB, P1, JRA and keeps
// JRA; building the order from the newest end (gomatrixserverlib) gives P0, P1, JRA, JRB.
TEST(StateResolutionV2Test, PowerOrderIsForwardKahnSmallestFirst) {
  Json p0 = Users({{"alice", 100}, {"bob", 50}, {"charlie", 50}});
  Json p1 = p0;
  p1["users"][User("dave")] = 10;
  Dag dag(
      {
          PowerLevelsEvent("P0", "alice", p0),
          JoinRules("JRB", "bob", Json{{"join_rule", "invite"}}),
          PowerLevelsEvent("P1", "charlie", p1),
          JoinRules("JRA", "alice", Json{{"join_rule", "public"}}),
      },
      {{"END", "JRB", "P0", "START"}, {"END", "JRA", "P1", "P0"}});
  // JRB's branch: P0 then JRB. JRA's: P0, P1, JRA.
  dag.ExpectEndState({"JRA", "P1"});
}

// The reference's extra case 2 (ruma#2480): a topic whose auth chain has no power levels at all
// sorts before every topic that cites one, so it is applied first and loses.
TEST(StateResolutionV2Test, AnEventWithNoPowerLevelsAncestorSortsFirstInTheMainline) {
  FakeEvents events;
  auto add = [&](const std::string& node, const std::string& sender, const std::string& type,
                 const Json& content, std::vector<std::string> auth, int64_t ts) {
    Json event = {{"type", type},
                  {"sender", User(sender)},
                  {"room_id", kRoom},
                  {"content", content},
                  {"state_key", ""},
                  {"origin_server_ts", ts},
                  {"prev_events", Json::array()}};
    if (type == "m.room.member") event["state_key"] = User(sender);
    Json auth_ids = Json::array();
    for (const std::string& a : auth) auth_ids.push_back(EventId(a));
    event["auth_events"] = auth_ids;
    events.Add(EventId(node), event);
  };
  add("CREATE", "alice", "m.room.create", {{"creator", User("alice")}}, {}, 0);
  add("IMA", "alice", "m.room.member", {{"membership", "join"}}, {"CREATE"}, 1);
  // No power levels yet: alice is the creator, at 100.
  add("T0", "alice", "m.room.topic", {{"topic", "no levels"}}, {"CREATE", "IMA"}, 9);
  add("PL1", "alice", "m.room.power_levels", Users({{"alice", 100}}), {"CREATE", "IMA"}, 2);
  add("T1", "alice", "m.room.topic", {{"topic", "oldest levels"}}, {"CREATE", "IMA", "PL1"}, 3);
  add("PL2", "alice", "m.room.power_levels", Users({{"alice", 100}, {"bob", 1}}),
      {"CREATE", "IMA", "PL1"}, 4);
  add("T2", "alice", "m.room.topic", {{"topic", "newest levels"}}, {"CREATE", "IMA", "PL2"}, 5);
  StateMap common = {{{"m.room.create", ""}, EventId("CREATE")},
                     {{"m.room.member", User("alice")}, EventId("IMA")},
                     {{"m.room.power_levels", ""}, EventId("PL2")}};
  std::vector<StateMap> states;
  for (const char* topic : {"T0", "T1", "T2"}) {
    StateMap state = common;
    state[{"m.room.topic", ""}] = EventId(topic);
    states.push_back(state);
  }
  // Mainline [PL2, PL1]: T0 reaches neither, T1 reaches PL1, T2 is on PL2. T2 is applied last.
  absl::StatusOr<StateMap> resolved = ResolveState(kRoom, 10, states, events);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->at({"m.room.topic", ""}), EventId("T2"));
  // With only T0 and T1 in conflict, T0 (no mainline ancestor) goes first and T1 wins, although
  // T0's timestamp is later.
  states.pop_back();
  resolved = ResolveState(kRoom, 10, states, events);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->at({"m.room.topic", ""}), EventId("T1"));
}

TEST(StateResolutionV2Test, OneStateIsReturnedAsItIsAndNoneGiveTheEmptyState) {
  FakeEvents events;
  StateMap state = {{{"m.room.topic", ""}, "$unknown"}};
  EXPECT_EQ(*ResolveState(kRoom, 10, {state}, events), state);
  EXPECT_TRUE(ResolveState(kRoom, 10, {}, events)->empty());
  // Identical states have nothing conflicted: no event is even looked up.
  EXPECT_EQ(*ResolveState(kRoom, 10, {state, state}, events), state);
}

TEST(StateResolutionV2Test, AnEventOfAnotherRoomIsAnErrorNotACrash) {
  Dag dag({Topic("T1", "alice"), Topic("T2", "bob")},
          {{"END", "T1", "START"}, {"END", "T2", "START"}});
  Json foreign = dag.events().Get(EventId("T2"));
  foreign["room_id"] = "!other:example.com";
  dag.events().Add(EventId("T2"), foreign);
  absl::StatusOr<StateMap> resolved =
      ResolveState(kRoom, 10, {dag.After("T1"), dag.After("T2")}, dag.events());
  EXPECT_EQ(resolved.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StateResolutionV2Test, MissingEventsAreLeftOutAndARejectedEventIsNeverAdmitted) {
  Dag dag({Topic("T1", "alice"), Topic("T2", "alice")},
          {{"END", "T1", "START"}, {"END", "T2", "START"}});
  StateMap with_t1 = dag.After("T1");
  StateMap with_t2 = dag.After("T2");
  // T2 is the later topic and wins...
  EXPECT_EQ(ResolveState(kRoom, 10, {with_t1, with_t2}, dag.events())->at({"m.room.topic", ""}),
            EventId("T2"));
  // ...unless it was rejected on receipt; then T1 is the only candidate.
  dag.events().Add(EventId("T2"), dag.events().Get(EventId("T2")), /*rejected=*/true);
  EXPECT_EQ(ResolveState(kRoom, 10, {with_t1, with_t2}, dag.events())->at({"m.room.topic", ""}),
            EventId("T1"));
  // An unknown conflicted event is left out.
  with_t2[{"m.room.topic", ""}] = "$never-seen";
  EXPECT_EQ(ResolveState(kRoom, 10, {with_t1, with_t2}, dag.events())->at({"m.room.topic", ""}),
            EventId("T1"));
}

// Room version 12 (state resolution v2.1): Synapse's test_v21.py. The create event is implied by
// the room id, so auth lists leave it out; alice, the creator, has infinite power.
class V21Room {
 public:
  static constexpr char kRoomV12[] = "!CREATE";

  V21Room() {
    Json create = {{"type", "m.room.create"},
                   {"sender", User("alice")},
                   {"state_key", ""},
                   {"content", {{"room_version", "12"}}},
                   {"origin_server_ts", 1},
                   {"prev_events", Json::array()},
                   {"auth_events", Json::array()}};
    events_.Add("$CREATE", create);
    ts_ = 1;
  }

  void Add(const std::string& node, const std::string& sender, const std::string& type,
           const std::string& state_key, Json content, const std::vector<std::string>& auth) {
    Json auth_ids = Json::array();
    for (const std::string& a : auth) auth_ids.push_back("$" + a);
    events_.Add("$" + node, {{"type", type},
                             {"sender", User(sender)},
                             {"room_id", kRoomV12},
                             {"state_key", state_key},
                             {"content", std::move(content)},
                             {"origin_server_ts", ++ts_},
                             {"prev_events", {"$CREATE"}},
                             {"auth_events", auth_ids}});
  }
  void Join(const std::string& node, const std::string& user, const std::vector<std::string>& auth,
            const std::string& membership = "join") {
    Add(node, user, "m.room.member", User(user), {{"membership", membership}}, auth);
  }

  absl::StatusOr<StateMap> Resolve(const std::vector<StateMap>& states) {
    return ResolveState(kRoomV12, 12, states, events_);
  }
  FakeEvents& events() { return events_; }

 private:
  FakeEvents events_;
  int64_t ts_ = 0;
};

StateMap Ids(std::initializer_list<std::pair<StateKey, std::string>> entries) {
  StateMap state;
  for (const auto& [key, node] : entries) state[key] = "$" + node;
  return state;
}

TEST(StateResolutionV21Test, TheConflictedSubgraphIsReplayedSoAnOldPowerLevelCannotReset) {
  V21Room room;
  room.Join("MA", "alice", {});
  room.Add("POWER1", "alice", "m.room.power_levels", "", {{"users", Json::object()}}, {"MA"});
  room.Add("JR", "alice", "m.room.join_rules", "", {{"join_rule", "public"}}, {"MA", "POWER1"});
  room.Join("MB", "bob", {"POWER1", "JR"});
  room.Join("MC", "charlie", {"POWER1", "JR"});
  room.Add("POWER2", "alice", "m.room.power_levels", "", {{"users", {{User("bob"), 50}}}},
           {"MA", "POWER1"});
  room.Add("POWER3", "bob", "m.room.power_levels", "",
           {{"users", {{User("bob"), 50}, {User("charlie"), 50}}}}, {"MB", "POWER2"});
  room.Join("ME1", "evelyn", {"POWER3", "JR"});
  room.Join("ME2", "evelyn", {"POWER1", "JR", "ME1"});
  room.Join("MZ", "zara", {"POWER3", "JR"});

  auto base = [](std::initializer_list<std::pair<StateKey, std::string>> extra) {
    StateMap state = Ids({{{"m.room.create", ""}, "CREATE"},
                          {{"m.room.member", User("alice")}, "MA"},
                          {{"m.room.member", User("bob")}, "MB"},
                          {{"m.room.member", User("charlie")}, "MC"},
                          {{"m.room.join_rules", ""}, "JR"}});
    for (const auto& [key, node] : extra) state[key] = "$" + node;
    return state;
  };
  StateMap dodgy =
      base({{{"m.room.member", User("evelyn")}, "ME2"}, {{"m.room.power_levels", ""}, "POWER1"}});
  StateMap good =
      base({{{"m.room.member", User("zara")}, "MZ"}, {{"m.room.power_levels", ""}, "POWER3"}});
  absl::StatusOr<StateMap> resolved = room.Resolve({dodgy, good});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(*resolved, base({{{"m.room.member", User("evelyn")}, "ME1"},
                             {{"m.room.member", User("zara")}, "MZ"},
                             {{"m.room.power_levels", ""}, "POWER3"}}));
}

TEST(StateResolutionV21Test, TheChecksStartFromNothingSoALaterLeaveCannotDropTheJoinRules) {
  V21Room room;
  room.Join("MA1", "alice", {});
  room.Add("POWER", "alice", "m.room.power_levels", "", {{"users", {{User("bob"), 100}}}}, {"MA1"});
  room.Add("JR1", "alice", "m.room.join_rules", "", {{"join_rule", "public"}}, {"MA1", "POWER"});
  room.Join("MB", "bob", {"POWER", "JR1"});
  room.Add("JR2", "alice", "m.room.join_rules", "", {{"join_rule", "invite"}}, {"MA1", "POWER"});
  room.Join("MA2", "alice", {"POWER", "MA1"}, "leave");

  auto state = [](const std::string& join_rules) {
    return Ids({{{"m.room.create", ""}, "CREATE"},
                {{"m.room.member", User("alice")}, "MA2"},
                {{"m.room.member", User("bob")}, "MB"},
                {{"m.room.power_levels", ""}, "POWER"},
                {{"m.room.join_rules", ""}, join_rules}});
  };
  absl::StatusOr<StateMap> resolved = room.Resolve({state("JR2"), state("JR1")});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(*resolved, state("JR2"));
}

TEST(StateResolutionV21Test, ACreatorOutranksEveryoneInThePowerOrder) {
  // Alice created the room and is not listed in the power levels: her level is infinite, not
  // users_default. Her join rule sorts before Bob's, so Bob's (applied last) wins, although
  // Alice's is the later one.
  V21Room room;
  room.Join("MA", "alice", {});
  room.Add("POWER", "alice", "m.room.power_levels", "", {{"users", {{User("bob"), 50}}}}, {"MA"});
  room.Add("JR0", "alice", "m.room.join_rules", "", {{"join_rule", "public"}}, {"MA", "POWER"});
  room.Join("MB", "bob", {"POWER", "JR0"});
  room.Add("JRB", "bob", "m.room.join_rules", "", {{"join_rule", "knock"}}, {"MB", "POWER"});
  room.Add("JRA", "alice", "m.room.join_rules", "", {{"join_rule", "invite"}}, {"MA", "POWER"});
  auto state = [](const std::string& join_rules) {
    return Ids({{{"m.room.create", ""}, "CREATE"},
                {{"m.room.member", User("alice")}, "MA"},
                {{"m.room.member", User("bob")}, "MB"},
                {{"m.room.power_levels", ""}, "POWER"},
                {{"m.room.join_rules", ""}, join_rules}});
  };
  absl::StatusOr<StateMap> resolved = room.Resolve({state("JRA"), state("JRB")});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->at({"m.room.join_rules", ""}), "$JRB");
}

TEST(StateResolutionV21Test, AMissingCreateEventIsNotACrash) {
  FakeEvents events;
  Json topic = {{"type", "m.room.topic"},       {"sender", User("alice")},
                {"room_id", "!nocreate"},       {"state_key", ""},
                {"content", Json::object()},    {"origin_server_ts", 1},
                {"prev_events", Json::array()}, {"auth_events", Json::array()}};
  events.Add("$T1", topic);
  events.Add("$T2", topic);
  StateMap a = {{{"m.room.topic", ""}, "$T1"}};
  StateMap b = {{{"m.room.topic", ""}, "$T2"}};
  absl::StatusOr<StateMap> resolved = ResolveState("!nocreate", 12, {a, b}, events);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  // Neither topic passes the auth rules without a create event.
  EXPECT_FALSE(resolved->contains({"m.room.topic", ""}));
}

// Random forked rooms: several users changing topic, power levels, join rules and memberships on
// branches that fork and merge. Resolution must not depend on the order its inputs come in, nor
// on the order a server happened to receive the events in.
class RandomRoom {
 public:
  explicit RandomRoom(uint32_t seed, int events) : rng_(seed) {
    const std::vector<std::string> users = {"alice", "bob", "charlie", "dave", "erin"};
    Dag base({}, {});  // CREATE ... START, with alice at 100 and a public join rule
    events_ = base.events();
    nodes_ = {"START"};
    after_["START"] = base.After("START");
    for (int i = 0; i < events; ++i) {
      std::string node = absl::StrCat("E", i);
      std::vector<std::string> prevs = PickPrevs();
      std::vector<StateMap> parent_states;
      for (const std::string& p : prevs) parent_states.push_back(after_.at(p));
      absl::StatusOr<StateMap> before = ResolveState(kRoom, 10, parent_states, events_);
      if (!before.ok()) {
        ADD_FAILURE() << before.status();
        return;
      }
      Json event = RandomEvent(users, node);
      Json prev_ids = Json::array();
      for (const std::string& p : prevs) prev_ids.push_back(EventId(p));
      event["prev_events"] = prev_ids;
      Json auth_ids = Json::array();
      for (const StateKey& key : AuthEventKeysFor(event, 10)) {
        if (auto it = before->find(key); it != before->end()) auth_ids.push_back(it->second);
      }
      event["auth_events"] = auth_ids;
      events_.Add(EventId(node), event);
      prevs_[node] = prevs;
      StateMap after = *before;
      after[StateKey(StringField(event, "type"), StringField(event, "state_key"))] = EventId(node);
      after_[node] = std::move(after);
      nodes_.push_back(node);
    }
  }

  const std::vector<std::string>& nodes() const { return nodes_; }
  const std::vector<std::string>& prevs(const std::string& node) const { return prevs_.at(node); }
  const StateMap& After(const std::string& node) const { return after_.at(node); }
  FakeEvents& events() { return events_; }
  std::mt19937& rng() { return rng_; }

 private:
  std::vector<std::string> PickPrevs() {
    // Mostly extend a recent event; sometimes merge two or three branches.
    std::vector<std::string> prevs;
    int wanted = std::uniform_int_distribution<int>(0, 9)(rng_) < 3 ? 2 : 1;
    if (std::uniform_int_distribution<int>(0, 19)(rng_) == 0) wanted = 3;
    int window = std::min<int>(static_cast<int>(nodes_.size()), 6);
    for (int tries = 0; tries < 10 && static_cast<int>(prevs.size()) < wanted; ++tries) {
      const std::string& candidate =
          nodes_[nodes_.size() - 1 - std::uniform_int_distribution<int>(0, window - 1)(rng_)];
      if (std::find(prevs.begin(), prevs.end(), candidate) == prevs.end()) {
        prevs.push_back(candidate);
      }
    }
    return prevs;
  }

  Json RandomEvent(const std::vector<std::string>& users, const std::string& node) {
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); };
    std::string sender = users[pick(static_cast<int>(users.size()))];
    std::string target = users[pick(static_cast<int>(users.size()))];
    Json event = {{"sender", User(sender)},
                  {"room_id", kRoom},
                  // Repeated timestamps, so that ties fall through to the event id.
                  {"origin_server_ts", 100 + pick(20)},
                  {"depth", 1}};
    switch (pick(5)) {
      case 0:
        event["type"] = "m.room.topic";
        event["state_key"] = "";
        event["content"] = {{"topic", node}};
        break;
      case 1: {
        Json levels = Json::object();
        levels[User("alice")] = 100;
        for (const std::string& user : users) {
          if (user != "alice" && pick(2) == 0) levels[User(user)] = pick(3) * 25;
        }
        event["type"] = "m.room.power_levels";
        event["state_key"] = "";
        event["content"] = {{"users", levels}, {"state_default", pick(2) * 50}};
        break;
      }
      case 2:
        event["type"] = "m.room.join_rules";
        event["state_key"] = "";
        event["content"] = {{"join_rule", pick(2) == 0 ? "public" : "invite"}};
        break;
      default: {
        static const char* kMemberships[] = {"join", "leave", "ban", "invite"};
        event["type"] = "m.room.member";
        event["state_key"] = User(target);
        event["content"] = {{"membership", kMemberships[pick(4)]}};
        break;
      }
    }
    return event;
  }

  std::mt19937 rng_;
  FakeEvents events_;
  std::vector<std::string> nodes_;
  std::map<std::string, std::vector<std::string>> prevs_;
  std::map<std::string, StateMap> after_;
};

TEST(StateResolutionPropertyTest, TheOrderOfTheInputStatesDoesNotMatter) {
  int merges = 0;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    RandomRoom room(seed, 60);
    for (const std::string& node : room.nodes()) {
      if (node == "START" || room.prevs(node).size() < 2) continue;
      std::vector<StateMap> states;
      for (const std::string& p : room.prevs(node)) states.push_back(room.After(p));
      absl::StatusOr<StateMap> first = ResolveState(kRoom, 10, states, room.events());
      ASSERT_TRUE(first.ok()) << first.status();
      for (int shuffle = 0; shuffle < 3; ++shuffle) {
        std::shuffle(states.begin(), states.end(), room.rng());
        absl::StatusOr<StateMap> again = ResolveState(kRoom, 10, states, room.events());
        ASSERT_TRUE(again.ok()) << again.status();
        ASSERT_EQ(*again, *first) << "seed " << seed << " at " << node;
      }
      ++merges;
    }
  }
  EXPECT_GT(merges, 100);  // the generator really forks and merges
}

// Two servers receive the same DAG in different (causally valid) orders; each computes the state
// after every event from what it has received. They must agree on every event.
TEST(StateResolutionPropertyTest, TwoServersFedTheEventsInDifferentOrdersAgree) {
  for (uint32_t seed = 100; seed < 120; ++seed) {
    RandomRoom room(seed, 60);
    const std::vector<std::string>& nodes = room.nodes();
    std::map<std::string, int> index;
    for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i]] = static_cast<int>(i);
    std::vector<std::vector<int>> depends_on(nodes.size());
    for (size_t i = 1; i < nodes.size(); ++i) {
      for (const std::string& p : room.prevs(nodes[i])) depends_on[i].push_back(index[p]);
    }
    // A different causal order: among the available events, a random priority decides.
    std::vector<uint32_t> priority(nodes.size());
    for (uint32_t& p : priority) p = room.rng()();
    std::vector<int> order = LexicographicalTopologicalSort(
        depends_on, [&](int a, int b) { return priority[a] < priority[b]; });
    ASSERT_EQ(order.size(), nodes.size());

    FakeEvents received;
    std::map<std::string, StateMap> after;
    for (int i : order) {
      const std::string& node = nodes[i];
      const Json& event = room.events().Get(EventId(node));
      if (node == "START") {
        after[node] = room.After(node);
        // The second server joined with the room's state up to START.
        for (const auto& [key, id] : room.After(node)) received.Add(id, room.events().Get(id));
        received.Add(EventId(node), event);
        continue;
      }
      std::vector<StateMap> parent_states;
      for (const std::string& p : room.prevs(node)) parent_states.push_back(after.at(p));
      absl::StatusOr<StateMap> before = ResolveState(kRoom, 10, parent_states, received);
      ASSERT_TRUE(before.ok()) << before.status();
      received.Add(EventId(node), event);
      StateMap state = *before;
      state[StateKey(StringField(event, "type"), StringField(event, "state_key"))] = EventId(node);
      ASSERT_EQ(state, room.After(node)) << "seed " << seed << " at " << node;
      after[node] = std::move(state);
    }
  }
}

}  // namespace
}  // namespace periscope::matrix
