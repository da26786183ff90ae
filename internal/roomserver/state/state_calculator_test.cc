// StateCalculator over the in-memory group store: how groups are shared, chained and snapshotted,
// and that a resolution is stored as a delta (including a removed key) on its closest input.

#include "internal/roomserver/state/state_calculator.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "internal/roomserver/testing/fake_state_group_store.h"

namespace periscope::roomserver {
namespace {

using matrix::Json;
using matrix::StateKey;
using matrix::StateMap;

constexpr char kRoom[] = "!r:a.test";

class MapEvents : public matrix::ResolvableEvents {
 public:
  const matrix::ResolvableEvent* Find(absl::string_view id) override {
    auto it = events_.find(std::string(id));
    return it == events_.end() ? nullptr : &it->second;
  }
  void Add(const std::string& id, const std::string& sender, const std::string& type,
           const std::string& state_key, Json content, std::vector<std::string> auth, int ts) {
    events_[id] = {Json{{"type", type},
                        {"sender", sender},
                        {"room_id", kRoom},
                        {"state_key", state_key},
                        {"content", std::move(content)},
                        {"auth_events", auth},
                        {"prev_events", Json::array({"$create"})},
                        {"origin_server_ts", ts}},
                   false};
  }

 private:
  std::map<std::string, matrix::ResolvableEvent> events_;
};

class StateCalculatorTest : public ::testing::Test {
 protected:
  testing::FakeStateGroupStore groups_;
  MapEvents events_;
  StateCalculator calculator_{groups_, events_, kRoom, 10};
};

TEST_F(StateCalculatorTest, EachStateEventAddsOneRowAndEveryHundredthGroupIsWhole) {
  StateMap expected;
  int64_t group = kEmptyStateGroup;
  for (int i = 0; i < 250; ++i) {
    StateKey key("m.room.member", absl::StrCat("@u", i % 40, ":a.test"));
    std::string id = absl::StrCat("$e", i);
    absl::StatusOr<int64_t> after = calculator_.After(group, key, id);
    ASSERT_TRUE(after.ok()) << after.status();
    group = *after;
    expected[key] = id;
    const testing::FakeStateGroupStore::Group& stored = groups_.group(group);
    ASSERT_LE(stored.hops, kMaxStateDeltaHops);
    if (stored.hops > 0) {
      EXPECT_EQ(stored.delta.size(), 1u) << "a delta holds only the changed key";
    } else {
      EXPECT_EQ(stored.delta.size(), expected.size()) << "a snapshot holds the whole state";
    }
    absl::StatusOr<StateMap> state = groups_.LoadState(group);
    ASSERT_TRUE(state.ok());
    ASSERT_EQ(*state, expected) << "after event " << i;
  }
  // Groups 1..101 chain from the first; 102 is whole; 103.. chain from it.
  EXPECT_EQ(groups_.group(101).hops, kMaxStateDeltaHops);
  EXPECT_EQ(groups_.group(102).hops, 0);
  EXPECT_EQ(groups_.group(103).hops, 1);
}

TEST_F(StateCalculatorTest, SameStatesShareTheirGroup) {
  absl::StatusOr<int64_t> a = calculator_.After(kEmptyStateGroup, {"m.room.topic", ""}, "$t");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*calculator_.Resolve({}), kEmptyStateGroup);
  EXPECT_EQ(*calculator_.Resolve({*a}), *a);
  EXPECT_EQ(*calculator_.Resolve({*a, *a, *a}), *a);
  EXPECT_EQ(groups_.size(), 1u);
  EXPECT_TRUE(calculator_.Difference(*a, *a)->empty());
}

// A base room (v10): alice created it, both alice and bob have 100, the join rule is public.
// Then alice changes the join rule to invite (JR2) on one branch and leaves on both.
class ResolvingCalculatorTest : public StateCalculatorTest {
 protected:
  void SetUp() override {
    events_.Add("$create", "@alice:a.test", "m.room.create", "", {{"creator", "@alice:a.test"}}, {},
                1);
    events_.Add("$ma1", "@alice:a.test", "m.room.member", "@alice:a.test", {{"membership", "join"}},
                {"$create"}, 2);
    events_.Add("$power", "@alice:a.test", "m.room.power_levels", "",
                {{"users", {{"@alice:a.test", 100}, {"@bob:a.test", 100}}}}, {"$create", "$ma1"},
                3);
    events_.Add("$jr1", "@alice:a.test", "m.room.join_rules", "", {{"join_rule", "public"}},
                {"$create", "$ma1", "$power"}, 4);
    events_.Add("$mb", "@bob:a.test", "m.room.member", "@bob:a.test", {{"membership", "join"}},
                {"$create", "$power", "$jr1"}, 5);
    events_.Add("$jr2", "@alice:a.test", "m.room.join_rules", "", {{"join_rule", "invite"}},
                {"$create", "$ma1", "$power"}, 6);
    events_.Add("$ma2", "@alice:a.test", "m.room.member", "@alice:a.test",
                {{"membership", "leave"}}, {"$create", "$power", "$ma1"}, 7);
    events_.Add("$topic", "@bob:a.test", "m.room.topic", "", {{"topic", "x"}},
                {"$create", "$power", "$mb"}, 8);
    base_ = {{{"m.room.create", ""}, "$create"},
             {{"m.room.member", "@alice:a.test"}, "$ma1"},
             {{"m.room.power_levels", ""}, "$power"},
             {{"m.room.join_rules", ""}, "$jr1"},
             {{"m.room.member", "@bob:a.test"}, "$mb"}};
  }

  int64_t Group(const StateMap& state) {
    StateDelta whole;
    for (const auto& [key, id] : state) whole.emplace(key, id);
    return *groups_.StoreGroup(kEmptyStateGroup, whole);
  }

  StateMap base_;
};

TEST_F(ResolvingCalculatorTest, AResultEqualToAnInputReusesItsGroup) {
  StateMap with_topic = base_;
  with_topic[{"m.room.topic", ""}] = "$topic";
  int64_t a = Group(base_);
  int64_t b = Group(with_topic);
  size_t before = groups_.size();
  absl::StatusOr<int64_t> resolved = calculator_.Resolve({a, b});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(*resolved, b) << "bob's topic passes, so the result is b's state";
  EXPECT_EQ(groups_.size(), before);
}

TEST_F(ResolvingCalculatorTest, AResolutionIsADeltaOnItsClosestInputAndCanRemoveAKey) {
  // Under state resolution v2 the checks start from the unconflicted state, where alice has left:
  // neither join rule passes, and the key disappears (the reset v2.1 was made to prevent).
  StateMap one = base_;
  one[{"m.room.member", "@alice:a.test"}] = "$ma2";
  StateMap two = one;
  two[{"m.room.join_rules", ""}] = "$jr2";
  int64_t a = Group(one);
  int64_t b = Group(two);
  absl::StatusOr<int64_t> resolved = calculator_.Resolve({a, b});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_NE(*resolved, a);
  EXPECT_NE(*resolved, b);
  const testing::FakeStateGroupStore::Group& stored = groups_.group(*resolved);
  EXPECT_EQ(stored.hops, 1);
  ASSERT_EQ(stored.delta.size(), 1u);
  EXPECT_EQ(stored.delta.begin()->first, StateKey("m.room.join_rules", ""));
  EXPECT_FALSE(stored.delta.begin()->second.has_value());
  StateMap expected = one;
  expected.erase({"m.room.join_rules", ""});
  EXPECT_EQ(*groups_.LoadState(*resolved), expected);
  absl::StatusOr<StateDelta> change = calculator_.Difference(b, *resolved);
  ASSERT_TRUE(change.ok());
  EXPECT_EQ(*change, (StateDelta{{{"m.room.join_rules", ""}, std::nullopt}}));
}

TEST_F(ResolvingCalculatorTest, AnUnknownGroupIsAnErrorNotAnEmptyState) {
  EXPECT_EQ(calculator_.Resolve({Group(base_), 999}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(calculator_.After(999, {"m.room.topic", ""}, "$t").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace periscope::roomserver
