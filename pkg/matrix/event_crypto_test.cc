// Event hashes, redaction, event ids and signatures: the spec's event signing vectors, byte-exact.

#include "pkg/matrix/event_crypto.h"

#include "gtest/gtest.h"
#include "pkg/matrix/base64.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

SigningKey SpecKey() {
  return *ParseSigningKey("ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
}

constexpr char kMinimalEvent[] = R"({
    "room_id": "!x:domain", "sender": "@a:domain", "origin": "domain",
    "origin_server_ts": 1000000, "signatures": {}, "hashes": {}, "type": "X", "content": {},
    "prev_events": [], "auth_events": [], "depth": 3, "unsigned": {"age_ts": 1000000}})";

constexpr char kRedactableEvent[] = R"({
    "content": {"body": "Here is the message content"}, "event_id": "$0:domain",
    "origin": "domain", "origin_server_ts": 1000000, "type": "m.room.message",
    "room_id": "!r:domain", "sender": "@u:domain", "signatures": {},
    "unsigned": {"age_ts": 1000000}})";

TEST(EventCryptoTest, SpecVectorMinimalEvent) {
  absl::StatusOr<Json> signed_event = SignEvent(*ParseJson(kMinimalEvent), "domain", SpecKey(), 10);
  ASSERT_TRUE(signed_event.ok()) << signed_event.status();
  EXPECT_EQ(
      *EncodeCanonicalJson(*signed_event),
      R"({"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},"origin":"domain","origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","signatures":{"domain":{"ed25519:1":"KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"}},"type":"X","unsigned":{"age_ts":1000000}})");
}

TEST(EventCryptoTest, SpecVectorRedactableEvent) {
  absl::StatusOr<Json> signed_event =
      SignEvent(*ParseJson(kRedactableEvent), "domain", SpecKey(), 10);
  ASSERT_TRUE(signed_event.ok()) << signed_event.status();
  EXPECT_EQ((*signed_event)["hashes"]["sha256"], "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g");
  EXPECT_EQ(
      (*signed_event)["signatures"]["domain"]["ed25519:1"],
      "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA");
  EXPECT_EQ((*signed_event)["content"]["body"], "Here is the message content");  // not redacted
}

TEST(EventCryptoTest, SignatureVerifiesAndSurvivesRedactionButNotTampering) {
  SigningKey key = SpecKey();
  Json event = *SignEvent(*ParseJson(kRedactableEvent), "domain", key, 10);
  EXPECT_TRUE(VerifyEventSignature(event, "domain", "ed25519:1", key.public_key, 10).ok());
  Json redacted = *RedactEvent(event, 10);
  EXPECT_TRUE(VerifyEventSignature(redacted, "domain", "ed25519:1", key.public_key, 10).ok());
  Json tampered = event;
  tampered["sender"] = "@mallory:domain";
  EXPECT_FALSE(VerifyEventSignature(tampered, "domain", "ed25519:1", key.public_key, 10).ok());
  // Content is covered by the hash, not the signature: a content change keeps the signature valid
  // and breaks the content hash.
  Json edited = event;
  edited["content"]["body"] = "edited";
  EXPECT_TRUE(VerifyEventSignature(edited, "domain", "ed25519:1", key.public_key, 10).ok());
  EXPECT_NE(*ContentHash(edited), event["hashes"]["sha256"].get<std::string>());
}

TEST(EventCryptoTest, RedactionKeepsWhatEachVersionKeeps) {
  Json member = *ParseJson(R"({"type":"m.room.member","state_key":"@a:x","unsigned":{"x":1},
      "extra":"gone","content":{"membership":"join","displayname":"A",
      "join_authorised_via_users_server":"@b:x"}})");
  EXPECT_EQ(
      *EncodeCanonicalJson(*RedactEvent(member, 10)),
      R"({"content":{"join_authorised_via_users_server":"@b:x","membership":"join"},"state_key":"@a:x","type":"m.room.member"})");
  EXPECT_EQ(*EncodeCanonicalJson(*RedactEvent(member, 8)),
            R"({"content":{"membership":"join"},"state_key":"@a:x","type":"m.room.member"})");
  Json rules = *ParseJson(
      R"({"type":"m.room.join_rules","content":{"join_rule":"restricted","allow":[],"x":1}})");
  EXPECT_EQ((*RedactEvent(rules, 10))["content"].size(), 2u);
  EXPECT_EQ((*RedactEvent(rules, 7))["content"].size(), 1u);
  Json pl =
      *ParseJson(R"({"type":"m.room.power_levels","content":{"ban":50,"invite":0,"users":{}}})");
  EXPECT_EQ(*EncodeCanonicalJson((*RedactEvent(pl, 10))["content"]), R"({"ban":50,"users":{}})");
  Json create =
      *ParseJson(R"({"type":"m.room.create","content":{"creator":"@a:x","m.federate":true}})");
  EXPECT_EQ(*EncodeCanonicalJson((*RedactEvent(create, 10))["content"]), R"({"creator":"@a:x"})");
}

TEST(EventCryptoTest, RoomVersion11RedactionRules) {
  Json base = *ParseJson(R"({"type":"m.room.member","state_key":"@a:x","origin":"x",
      "membership":"join","prev_state":[],"depth":1,"content":{"membership":"invite",
      "third_party_invite":{"display_name":"A","signed":{"token":"t"}},"displayname":"A"}})");
  EXPECT_EQ(
      *EncodeCanonicalJson(*RedactEvent(base, 11)),
      R"({"content":{"membership":"invite","third_party_invite":{"signed":{"token":"t"}}},"depth":1,"state_key":"@a:x","type":"m.room.member"})");
  // v10 keeps the legacy top-level keys and drops third_party_invite.
  EXPECT_EQ(
      *EncodeCanonicalJson(*RedactEvent(base, 10)),
      R"({"content":{"membership":"invite"},"depth":1,"membership":"join","origin":"x","prev_state":[],"state_key":"@a:x","type":"m.room.member"})");
  Json bad_tpi = *ParseJson(
      R"({"type":"m.room.member","content":{"membership":"invite","third_party_invite":"x"}})");
  EXPECT_EQ(*EncodeCanonicalJson((*RedactEvent(bad_tpi, 11))["content"]),
            R"({"membership":"invite"})");
  Json create =
      *ParseJson(R"({"type":"m.room.create","content":{"room_version":"11","m.federate":false}})");
  EXPECT_EQ(*EncodeCanonicalJson((*RedactEvent(create, 11))["content"]),
            R"({"m.federate":false,"room_version":"11"})");
  Json pl = *ParseJson(R"({"type":"m.room.power_levels","content":{"invite":50,"x":1}})");
  EXPECT_EQ(*EncodeCanonicalJson((*RedactEvent(pl, 11))["content"]), R"({"invite":50})");
  Json redaction =
      *ParseJson(R"({"type":"m.room.redaction","content":{"redacts":"$e","reason":"r"}})");
  EXPECT_EQ(*EncodeCanonicalJson((*RedactEvent(redaction, 11))["content"]), R"({"redacts":"$e"})");
  EXPECT_EQ(*EncodeCanonicalJson((*RedactEvent(redaction, 10))["content"]), "{}");
}

TEST(EventCryptoTest, EventIdIsUrlSafeReferenceHashAndIgnoresUnsigned) {
  Json event = *SignEvent(*ParseJson(kMinimalEvent), "domain", SpecKey(), 10);
  absl::StatusOr<std::string> id = ComputeEventId(event, 10);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->size(), 44u);  // "$" + 43 characters of unpadded base64 for 32 bytes
  EXPECT_EQ((*id)[0], '$');
  EXPECT_EQ(id->find_first_of("+/="), std::string::npos);
  Json with_unsigned = event;
  with_unsigned["unsigned"]["age"] = 99;
  EXPECT_EQ(*ComputeEventId(with_unsigned, 10), *id);
  Json other_signature = event;
  other_signature["signatures"]["other"] = Json{{"ed25519:x", "abc"}};
  EXPECT_EQ(*ComputeEventId(other_signature, 10), *id);
  Json changed = event;
  changed["depth"] = 4;
  EXPECT_NE(*ComputeEventId(changed, 10), *id);
}

TEST(EventCryptoTest, RoomVersions) {
  EXPECT_EQ(*ParseRoomVersion("10"), 10);
  EXPECT_EQ(*ParseRoomVersion("4"), 4);
  EXPECT_EQ(*ParseRoomVersion("11"), 11);
  EXPECT_EQ(*ParseRoomVersion("12"), 12);
  for (const char* bad : {"3", "13", "010", "", "x", "10.0"}) {
    EXPECT_EQ(MatrixErrcode(ParseRoomVersion(bad).status()), "M_UNSUPPORTED_ROOM_VERSION") << bad;
  }
}

TEST(EventCryptoTest, NonObjectsAreRefused) {
  EXPECT_FALSE(ContentHash(Json::array()).ok());
  EXPECT_FALSE(RedactEvent(Json("x"), 10).ok());
  EXPECT_FALSE(ComputeEventId(Json(1), 10).ok());
}

}  // namespace
}  // namespace periscope::matrix
