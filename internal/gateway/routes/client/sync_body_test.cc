#include "internal/gateway/routes/client/sync_body.h"

#include <gtest/gtest.h>

#include "pkg/matrix/canonical_json.h"

namespace periscope::gateway {
namespace {

using matrix::Json;
namespace syncapi_v1 = periscope::syncapi::v1;

TEST(SyncBodyTest, EmptyAnswerHasEverySectionAndNoPeek) {
  syncapi_v1::SyncResponse response;
  response.set_next_batch("s7");
  Json body = Json::parse(SyncBody(response));
  EXPECT_EQ(body["next_batch"], "s7");
  EXPECT_EQ(body["rooms"], Json::parse(R"({"join":{},"invite":{},"leave":{},"knock":{}})"));
  EXPECT_EQ(body["account_data"], Json::parse(R"({"events":[]})"));
  EXPECT_EQ(body["presence"], Json::parse(R"({"events":[]})"));
  EXPECT_EQ(body["to_device"], Json::parse(R"({"events":[]})"));
  EXPECT_EQ(body["device_lists"], Json::parse(R"({"changed":[],"left":[]})"));
  EXPECT_TRUE(body["device_one_time_keys_count"].is_object());
}

TEST(SyncBodyTest, RoomsCarryTheirEventsAsSyncapiWroteThem) {
  syncapi_v1::SyncResponse response;
  response.set_next_batch("s9");
  response.add_account_data_json(R"({"type":"m.x","content":{}})");
  syncapi_v1::JoinedRoom& joined = (*response.mutable_join())["!j:x"];
  joined.add_state_json(R"({"type":"m.room.create","state_key":""})");
  joined.mutable_timeline()->add_events_json(R"({"type":"m.room.message","n":1})");
  joined.mutable_timeline()->add_events_json(R"({"type":"m.room.message","n":2})");
  joined.mutable_timeline()->set_limited(true);
  joined.mutable_timeline()->set_prev_batch("s3");
  joined.mutable_summary()->set_joined_member_count(2);
  joined.mutable_summary()->add_heroes("@b:x");
  syncapi_v1::JoinedRoom& peeked = (*response.mutable_peek())["!p:x \"quoted\""];
  peeked.mutable_timeline()->set_prev_batch("s8");
  (*response.mutable_invite())["!i:x"].add_invite_state_json(R"({"type":"m.room.name"})");
  (*response.mutable_leave())["!l:x"].mutable_timeline()->add_events_json(R"({"n":3})");

  Json body = Json::parse(SyncBody(response));
  const Json& j = body["rooms"]["join"]["!j:x"];
  EXPECT_EQ(j["state"]["events"][0]["type"], "m.room.create");
  EXPECT_EQ(j["timeline"]["events"].size(), 2u);
  EXPECT_EQ(j["timeline"]["events"][1]["n"], 2);
  EXPECT_EQ(j["timeline"]["limited"], true);
  EXPECT_EQ(j["timeline"]["prev_batch"], "s3");
  EXPECT_EQ(j["summary"]["m.joined_member_count"], 2);
  EXPECT_EQ(j["summary"]["m.heroes"], Json::parse(R"(["@b:x"])"));
  EXPECT_EQ(j["ephemeral"], Json::parse(R"({"events":[]})"));
  EXPECT_EQ(j["account_data"], Json::parse(R"({"events":[]})"));
  // A room id is escaped as a JSON key; a room without a summary has none.
  const Json& p = body["rooms"]["peek"]["!p:x \"quoted\""];
  EXPECT_EQ(p["timeline"]["limited"], false);
  EXPECT_FALSE(p.contains("summary"));
  EXPECT_EQ(body["rooms"]["invite"]["!i:x"]["invite_state"]["events"][0]["type"], "m.room.name");
  EXPECT_EQ(body["rooms"]["leave"]["!l:x"]["timeline"]["events"][0]["n"], 3);
  EXPECT_EQ(body["rooms"]["leave"]["!l:x"]["state"], Json::parse(R"({"events":[]})"));
  EXPECT_EQ(body["account_data"]["events"][0]["type"], "m.x");
}

}  // namespace
}  // namespace periscope::gateway
