// The federation read endpoints with a faked roomserver: who must not read what. A server with
// no member in the room reads nothing; one the ACL denies reads nothing; history visibility at
// the event decides for the rest; and what is served is the state before the event with its
// auth chain, never `unsigned`.

#include "internal/federationapi/reads/federation_reads.h"

#include <map>

#include "gtest/gtest.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;

class FakeReads : public RoomReads {
 public:
  absl::StatusOr<std::vector<StoredPdu>> EventsById(const std::vector<std::string>& ids) override {
    std::vector<StoredPdu> out;
    for (const auto& id : ids) {
      if (auto it = events.find(id); it != events.end()) out.push_back(it->second);
    }
    return out;
  }
  absl::StatusOr<std::vector<StoredPdu>> StateAtEvent(const std::string&, const std::string& id,
                                                      bool) override {
    auto it = state_before.find(id);
    if (it == state_before.end()) return absl::NotFoundError("no state");
    return EventsById(it->second);
  }
  absl::StatusOr<std::vector<StoredPdu>> CurrentState(const std::string&) override {
    return EventsById(current);
  }
  std::map<std::string, StoredPdu> events;
  std::map<std::string, std::vector<std::string>> state_before;
  std::vector<std::string> current;
};

class OneRoom : public RoomInput {
 public:
  absl::StatusOr<std::optional<int>> RoomVersion(const std::string& room) override {
    if (room == "!r:a.test") return 10;
    return std::nullopt;
  }
  absl::StatusOr<roomserver::v1::InputRoomEventsResponse> Input(
      const roomserver::v1::InputRoomEventsRequest&) override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<Json> ServerAcl(const std::string&) override { return Json(nullptr); }
};

class FederationReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Add("$create", {{"type", "m.room.create"}, {"state_key", ""}}, {});
    Add("$alice", Member("@alice:a.test", "join"), {"$create"});
    Add("$vis",
        {{"type", "m.room.history_visibility"},
         {"state_key", ""},
         {"content", {{"history_visibility", "joined"}}}},
        {"$create", "$alice"});
    Add("$secret",
        {{"type", "m.room.message"},
         {"content", {{"body", "before b joined"}}},
         {"unsigned", {{"age", 5}}}},
        {"$create", "$alice"});
    Add("$bob", Member("@bob:b.test", "join"), {"$create"});
    Add("$later", {{"type", "m.room.message"}, {"content", {{"body", "after"}}}},
        {"$create", "$alice"});
    reads_.state_before["$secret"] = {"$create", "$alice", "$vis"};
    reads_.state_before["$later"] = {"$create", "$alice", "$vis", "$bob"};
    reads_.current = {"$create", "$alice", "$vis", "$bob"};
  }

  static Json Member(const std::string& user, const std::string& membership) {
    return {
        {"type", "m.room.member"}, {"state_key", user}, {"content", {{"membership", membership}}}};
  }
  void Add(const std::string& id, Json event, std::vector<std::string> auth) {
    event["room_id"] = "!r:a.test";
    event["auth_events"] = auth;
    // A line: each event follows the one added before it.
    event["prev_events"] = last_.empty() ? Json::array() : Json({last_});
    last_ = id;
    reads_.events[id] = {id, "!r:a.test", event.dump()};
  }

  std::string last_;
  SimulatedClock clock_;
  FakeReads reads_;
  OneRoom rooms_;
  FederationReads fed_{"a.test", reads_, rooms_, clock_};
};

TEST_F(FederationReadsTest, AServerWithAMemberJoinedThenReadsTheEventWithoutUnsigned) {
  auto r = fed_.Event("b.test", "$later");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["origin"], "a.test");
  EXPECT_EQ((*r)["pdus"][0]["content"]["body"], "after");
  EXPECT_FALSE((*r)["pdus"][0].contains("unsigned"));
}

TEST_F(FederationReadsTest, HistoryFromBeforeItsMembersJoinedIsRefusedUnderJoinedVisibility) {
  auto r = fed_.Event("b.test", "$secret");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(fed_.StateIds("b.test", "!r:a.test", "$secret").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(FederationReadsTest, AServerThatWasNeverInTheRoomReadsNothing) {
  for (const char* id : {"$later", "$secret", "$create"}) {
    auto r = fed_.Event("c.test", id);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << id;
    EXPECT_EQ(MatrixErrcode(r.status()), "M_FORBIDDEN");
  }
  EXPECT_EQ(fed_.State("c.test", "!r:a.test", "$later").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(fed_.EventAuth("c.test", "!r:a.test", "$later").status().code(),
            absl::StatusCode::kPermissionDenied);
}

// MSC2444: a world_readable room serves its world_readable history to a server not in it (one
// peeking it fills its gaps), and nothing that was not world_readable.
TEST_F(FederationReadsTest, AServerNotInAWorldReadableRoomReadsOnlyItsWorldReadableHistory) {
  Add("$open",
      {{"type", "m.room.history_visibility"},
       {"state_key", ""},
       {"content", {{"history_visibility", "world_readable"}}}},
      {"$create", "$alice"});
  Add("$public", {{"type", "m.room.message"}, {"content", {{"body", "for all"}}}},
      {"$create", "$alice"});
  reads_.state_before["$public"] = {"$create", "$alice", "$open", "$bob"};
  reads_.current = {"$create", "$alice", "$open", "$bob"};
  auto r = fed_.Event("c.test", "$public");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["pdus"][0]["content"]["body"], "for all");
  EXPECT_TRUE(fed_.StateIds("c.test", "!r:a.test", "$public").ok());
  // Shared history is for servers in the room only.
  EXPECT_EQ(fed_.Event("c.test", "$later").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(fed_.Event("c.test", "$secret").status().code(), absl::StatusCode::kPermissionDenied);
  auto missing = fed_.MissingEvents(
      "c.test", "!r:a.test", {{"latest_events", {"$public"}}, {"earliest_events", Json::array()}});
  ASSERT_TRUE(missing.ok()) << missing.status();
  for (const Json& e : (*missing)["events"]) {
    if (e["type"] == "m.room.message") {
      EXPECT_FALSE(e["content"].contains("body")) << "served redacted: " << e.dump();
    }
  }
}

TEST_F(FederationReadsTest, TheAclDeniesReads) {
  Add("$acl",
      {{"type", "m.room.server_acl"},
       {"state_key", ""},
       {"content", {{"allow", {"*"}}, {"deny", {"b.test"}}}}},
      {"$create"});
  reads_.current.push_back("$acl");
  EXPECT_EQ(fed_.Event("b.test", "$later").status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(FederationReadsTest, StateIdsAreTheStateBeforeWithItsAuthChain) {
  auto r = fed_.StateIds("b.test", "!r:a.test", "$later");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)["pdu_ids"], Json({"$create", "$alice", "$vis", "$bob"}));
  EXPECT_EQ((*r)["auth_chain_ids"], Json::array());  // every auth event is in the state itself
  auto state = fed_.State("b.test", "!r:a.test", "$later");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)["pdus"].size(), 4u);
  auto auth = fed_.EventAuth("b.test", "!r:a.test", "$vis");
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ((*auth)["auth_chain"].size(), 2u);  // $create and $alice
}

TEST_F(FederationReadsTest, UnknownEventsWrongRoomsAndMissingParametersAreClearErrors) {
  EXPECT_EQ(fed_.Event("b.test", "$nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fed_.StateIds("b.test", "!other:a.test", "$later").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(fed_.StateIds("b.test", "!r:a.test", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FederationReadsTest, BackfillWalksBackAndRedactsWhatTheServerMayNotSee) {
  reads_.state_before["$bob"] = {"$create", "$alice", "$vis"};
  reads_.state_before["$vis"] = {"$create", "$alice"};
  auto r = fed_.Backfill("b.test", "!r:a.test", {"$later"}, 3);
  ASSERT_TRUE(r.ok()) << r.status();
  const Json& pdus = (*r)["pdus"];
  ASSERT_EQ(pdus.size(), 3u);
  EXPECT_EQ(pdus[0]["content"]["body"], "after");     // $later
  EXPECT_EQ(pdus[1]["type"], "m.room.member");        // $bob
  EXPECT_EQ(pdus[2]["type"], "m.room.message");       // $secret, before b.test's member joined:
  EXPECT_FALSE(pdus[2]["content"].contains("body"));  // redacted, not left out
  EXPECT_EQ(fed_.Backfill("c.test", "!r:a.test", {"$later"}, 3).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(fed_.Backfill("b.test", "!r:a.test", {}, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fed_.Backfill("b.test", "!r:a.test", {"$later"}, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FederationReadsTest, MissingEventsStopAtWhatTheServerHasAndAtTheLimit) {
  auto r = fed_.MissingEvents(
      "b.test", "!r:a.test",
      {{"earliest_events", {"$vis"}}, {"latest_events", {"$later"}}, {"limit", 10}});
  ASSERT_TRUE(r.ok()) << r.status();
  // $later's ancestors down to (not including) $vis; $later itself is not missing.
  ASSERT_EQ((*r)["events"].size(), 2u);
  auto limited = fed_.MissingEvents(
      "b.test", "!r:a.test",
      {{"earliest_events", Json::array()}, {"latest_events", {"$later"}}, {"limit", 500}});
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ((*limited)["events"].size(), 5u);  // every ancestor; the cap (20) is not reached
  EXPECT_EQ(
      fed_.MissingEvents("b.test", "!r:a.test", {{"latest_events", "$later"}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fed_.MissingEvents("c.test", "!r:a.test",
                               {{"earliest_events", Json::array()}, {"latest_events", {"$later"}}})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace periscope::federationapi
