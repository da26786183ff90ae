#include "pkg/matrix/client_event.h"

#include "gtest/gtest.h"

namespace periscope::matrix {
namespace {

TEST(ClientEventTest, KeepsWhatClientsSeeAndAddsTheId) {
  Json pdu = Json::parse(R"({"type":"m.room.topic","state_key":"","sender":"@a:x","room_id":"!r:x",
      "content":{"topic":"t"},"origin_server_ts":5,"depth":3,"auth_events":["$a"],
      "prev_events":["$p"],"hashes":{"sha256":"h"},"signatures":{"x":{}},"origin":"x",
      "unsigned":{"age":1}})");
  EXPECT_EQ(ClientEventFromPdu(pdu, "$e"), Json::parse(R"({"type":"m.room.topic","state_key":"",
      "sender":"@a:x","room_id":"!r:x","content":{"topic":"t"},"origin_server_ts":5,
      "unsigned":{"age":1},"event_id":"$e"})"));
  EXPECT_EQ(StrippedStateFromPdu(pdu), Json::parse(R"({"type":"m.room.topic","state_key":"",
      "sender":"@a:x","content":{"topic":"t"}})"));
  EXPECT_FALSE(ClientEventFromPduJson("{nope", "$e").ok());
  EXPECT_EQ(ClientEventFromPdu(Json::array(), "$e"), Json::object());
}

}  // namespace
}  // namespace periscope::matrix
