// The stateless PDU checks: what must be dropped (malformed, unsigned, signed by the wrong
// server or with a key not valid when the event was sent) and what goes on redacted (a content
// hash mismatch), with real signatures made here.

#include "internal/federationapi/inbound/pdu_checks.h"

#include "gtest/gtest.h"
#include "internal/federationapi/testing/fake_key_fetcher.h"
#include "internal/federationapi/testing/fake_server_key_store.h"
#include "pkg/matrix/event_crypto.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;

class PduChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    remote_ = *matrix::GenerateSigningKey("r1");
    other_ = *matrix::GenerateSigningKey("o1");
    fetcher_.direct["remote.test"] = Doc("remote.test", remote_);
    fetcher_.direct["other.test"] = Doc("other.test", other_);
    keyring_ = std::make_unique<Keyring>("us.test", ours_, store_, fetcher_,
                                         std::vector<std::string>{}, clock_);
  }

  Json Doc(const std::string& server, const matrix::SigningKey& key) {
    return *matrix::BuildServerKeys(server, key, clock_.Now() + absl::Hours(24));
  }

  // A message from @bob:remote.test, signed by remote.test.
  Json Message(int version = 10, Json content = {{"body", "hi"}, {"msgtype", "m.text"}}) {
    Json event = {{"room_id", "!room:us.test"},
                  {"type", "m.room.message"},
                  {"sender", "@bob:remote.test"},
                  {"origin_server_ts", absl::ToUnixMillis(clock_.Now())},
                  {"depth", 5},
                  {"prev_events", {"$prev"}},
                  {"auth_events", {"$create", "$member"}},
                  {"content", std::move(content)}};
    return *matrix::SignEvent(event, "remote.test", remote_, version);
  }

  absl::StatusOr<CheckedPdu> Check(const Json& pdu, int version = 10) {
    return CheckPdu(pdu, version, *keyring_);
  }

  SimulatedClock clock_;
  matrix::SigningKey ours_ = *matrix::GenerateSigningKey("us");
  matrix::SigningKey remote_, other_;
  testing::FakeServerKeyStore store_;
  testing::FakeKeyFetcher fetcher_;
  std::unique_ptr<Keyring> keyring_;
};

TEST_F(PduChecksTest, AWellFormedSignedEventPassesWithItsId) {
  Json pdu = Message();
  auto checked = Check(pdu);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->event_id, *matrix::ComputeEventId(pdu, 10));
  EXPECT_EQ(checked->room_id, "!room:us.test");
  EXPECT_FALSE(checked->redacted);
  EXPECT_EQ(checked->event, pdu);
}

TEST_F(PduChecksTest, MalformedEventsAreDropped) {
  auto malformed = [&](auto edit) {
    Json pdu = Message();
    edit(pdu);
    // Validly signed all the same, where the edit still hashes (an out-of-range depth does not).
    if (auto resigned = matrix::SignEvent(pdu, "remote.test", remote_, 10); resigned.ok()) {
      pdu = *resigned;
    }
    auto checked = Check(pdu);
    EXPECT_EQ(checked.status().code(), absl::StatusCode::kInvalidArgument) << pdu.dump();
    EXPECT_EQ(MatrixErrcode(checked.status()), "M_BAD_JSON");
  };
  malformed([](Json& e) { e["event_id"] = "$mine"; });
  malformed([](Json& e) { e["depth"] = -1; });
  malformed([](Json& e) { e["depth"] = int64_t{1} << 53; });
  malformed([](Json& e) { e["depth"] = "5"; });
  malformed([](Json& e) { e.erase("origin_server_ts"); });
  malformed([](Json& e) { e["prev_events"] = {{"$a", {{"sha256", "x"}}}}; });  // the v1 shape
  malformed([](Json& e) { e["sender"] = "bob"; });
  malformed([](Json& e) { e["content"] = "text"; });
  malformed([](Json& e) { e["state_key"] = 5; });
  malformed([](Json& e) { e.erase("room_id"); });
  EXPECT_EQ(Check(Json::array()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PduChecksTest, AnEventNotSignedByItsSendersServerIsDropped) {
  Json pdu = Message();
  pdu["signatures"] = {{"other.test", pdu["signatures"]["remote.test"]}};
  EXPECT_EQ(Check(pdu).status().code(), absl::StatusCode::kUnauthenticated);
  // Signed by another server only (a valid signature of the wrong server).
  Json by_other = Message();
  by_other.erase("signatures");
  by_other = *matrix::SignEvent(by_other, "other.test", other_, 10);
  EXPECT_EQ(Check(by_other).status().code(), absl::StatusCode::kUnauthenticated);
  // A signature that does not verify (the type changed after signing).
  Json forged = Message();
  forged["type"] = "m.room.power_levels";
  EXPECT_EQ(Check(forged).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(PduChecksTest, AContentHashMismatchGoesOnRedacted) {
  Json pdu = Message();
  pdu["content"]["body"] = "tampered";  // content is outside the signed (redacted) form
  auto checked = Check(pdu);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_TRUE(checked->redacted);
  EXPECT_FALSE(checked->event["content"].contains("body"));
  EXPECT_EQ(checked->event_id, *matrix::ComputeEventId(pdu, 10));  // the id does not change
}

TEST_F(PduChecksTest, UnsignedKeepsOnlyAge) {
  Json pdu = Message();
  pdu["unsigned"] = {{"age", 10}, {"redacted_because", {{"x", 1}}}, {"membership", "join"}};
  auto checked = Check(pdu);
  ASSERT_TRUE(checked.ok());
  EXPECT_EQ(checked->event["unsigned"], (Json{{"age", 10}}));
  pdu["unsigned"] = {{"transaction_id", "t"}};
  EXPECT_FALSE(Check(pdu)->event.contains("unsigned"));
}

TEST_F(PduChecksTest, KeysMustHaveBeenValidWhenTheEventWasSentFromVersion5) {
  // The remote's key document expires in an hour; an event claiming to be sent in two hours
  // cannot be verified with it in room version 10, and can in room version 4.
  fetcher_.direct["remote.test"] =
      *matrix::BuildServerKeys("remote.test", remote_, clock_.Now() + absl::Hours(1));
  Json late = Message(10);
  late["origin_server_ts"] = absl::ToUnixMillis(clock_.Now() + absl::Hours(2));
  late.erase("signatures");
  late.erase("hashes");
  Json v10 = *matrix::SignEvent(late, "remote.test", remote_, 10);
  EXPECT_EQ(Check(v10, 10).status().code(), absl::StatusCode::kUnauthenticated);
  Json v4 = *matrix::SignEvent(late, "remote.test", remote_, 4);
  EXPECT_TRUE(Check(v4, 4).ok());
}

TEST_F(PduChecksTest, ARestrictedJoinNeedsTheAuthorisingServersSignatureToo) {
  Json join = {
      {"room_id", "!room:us.test"},
      {"type", "m.room.member"},
      {"state_key", "@bob:remote.test"},
      {"sender", "@bob:remote.test"},
      {"origin_server_ts", absl::ToUnixMillis(clock_.Now())},
      {"depth", 5},
      {"prev_events", {"$prev"}},
      {"auth_events", {"$create"}},
      {"content",
       {{"membership", "join"}, {"join_authorised_via_users_server", "@carol:other.test"}}}};
  Json only_joiner = *matrix::SignEvent(join, "remote.test", remote_, 10);
  EXPECT_EQ(Check(only_joiner).status().code(), absl::StatusCode::kUnauthenticated);
  Json both = *matrix::SignEvent(only_joiner, "other.test", other_, 10);
  EXPECT_TRUE(Check(both).ok());
}

TEST_F(PduChecksTest, Version12CreateEventsNameNoRoomAndOthersDoNotListTheCreateEvent) {
  Json create = {{"type", "m.room.create"},
                 {"state_key", ""},
                 {"sender", "@bob:remote.test"},
                 {"origin_server_ts", 1},
                 {"depth", 1},
                 {"prev_events", Json::array()},
                 {"auth_events", Json::array()},
                 {"content", {{"room_version", "12"}}}};
  Json signed_create = *matrix::SignEvent(create, "remote.test", remote_, 12);
  auto checked = Check(signed_create, 12);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->room_id, "!" + checked->event_id.substr(1));
  Json with_room = create;
  with_room["room_id"] = "!x:remote.test";
  EXPECT_FALSE(Check(*matrix::SignEvent(with_room, "remote.test", remote_, 12), 12).ok());
  Json message = Message(12);
  message.erase("signatures");
  message.erase("hashes");
  message["room_id"] = checked->room_id;
  message["auth_events"] = {checked->event_id};
  EXPECT_EQ(Check(*matrix::SignEvent(message, "remote.test", remote_, 12), 12).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace periscope::federationapi
