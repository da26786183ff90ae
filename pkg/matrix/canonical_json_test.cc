// Canonical JSON and JSON signing: every example of the spec's appendix, byte-exact, and the
// hostile inputs the parser must refuse without crashing.

#include "pkg/matrix/canonical_json.h"

#include <random>

#include "gtest/gtest.h"
#include "pkg/crypto/random.h"
#include "pkg/matrix/base64.h"
#include "pkg/matrix/json_signing.h"
#include "pkg/status/matrix_status.h"

namespace periscope::matrix {
namespace {

std::string Canonical(absl::string_view text) {
  absl::StatusOr<Json> parsed = ParseJson(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.status();
  if (!parsed.ok()) return "";
  absl::StatusOr<std::string> encoded = EncodeCanonicalJson(*parsed);
  EXPECT_TRUE(encoded.ok()) << encoded.status();
  return encoded.value_or("");
}

std::string ErrcodeOf(absl::string_view text, const JsonLimits& limits = {}) {
  absl::StatusOr<Json> parsed = ParseJson(text, limits);
  if (parsed.ok()) return "ok";
  return MatrixErrcode(parsed.status()).value_or("none");
}

TEST(CanonicalJsonTest, SpecExamples) {
  EXPECT_EQ(Canonical("{}"), "{}");
  EXPECT_EQ(Canonical("{\n    \"one\": 1,\n    \"two\": \"Two\"\n}"), R"({"one":1,"two":"Two"})");
  EXPECT_EQ(Canonical("{\n    \"b\": \"2\",\n    \"a\": \"1\"\n}"), R"({"a":"1","b":"2"})");
  EXPECT_EQ(Canonical(R"({"b":"2","a":"1"})"), R"({"a":"1","b":"2"})");
  EXPECT_EQ(
      Canonical(R"({
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {"medium": "email", "address": "john.doe@example.org"},
                {"medium": "msisdn", "address": "123456789"}
            ]
        }
    }
})"),
      R"({"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}})");
  EXPECT_EQ(Canonical("{\"a\": \"日本語\"}"), "{\"a\":\"日本語\"}");
  EXPECT_EQ(Canonical("{\"本\": 2, \"日\": 1}"), "{\"日\":1,\"本\":2}");
  EXPECT_EQ(Canonical(R"({"a": "\u65E5"})"), "{\"a\":\"日\"}");
  EXPECT_EQ(Canonical(R"({"a": null})"), R"({"a":null})");
  EXPECT_EQ(Canonical(R"({"a": -0, "b": 1e10})"), R"({"a":0,"b":10000000000})");
}

TEST(CanonicalJsonTest, EscapesOnlyWhatMustBeEscaped) {
  EXPECT_EQ(Canonical(R"({"a":"\"\\\/\b\f\n\r\t\u0001\u001f\u007f"})"),
            "{\"a\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"}");
  EXPECT_EQ(Canonical(R"(["\ud83d\ude00"])"), "[\"\xF0\x9F\x98\x80\"]");  // surrogate pair
}

TEST(CanonicalJsonTest, KeysSortByCodePoint) {
  // U+FFFF sorts before U+10000 in code points (and in UTF-8 bytes), unlike UTF-16 order.
  EXPECT_EQ(Canonical("{\"\xF0\x90\x80\x80\":1,\"\xEF\xBF\xBF\":2,\"b\":3,\"a\":4}"),
            "{\"a\":4,\"b\":3,\"\xEF\xBF\xBF\":2,\"\xF0\x90\x80\x80\":1}");
}

TEST(CanonicalJsonTest, IntegerRange) {
  EXPECT_EQ(Canonical("[9007199254740991,-9007199254740991]"),
            "[9007199254740991,-9007199254740991]");
  EXPECT_EQ(ErrcodeOf("[9007199254740992]"), "M_BAD_JSON");
  EXPECT_EQ(ErrcodeOf("[-9007199254740992]"), "M_BAD_JSON");
  EXPECT_EQ(ErrcodeOf("[1e16]"), "M_BAD_JSON");
  EXPECT_EQ(ErrcodeOf("[123456789012345678901234567890]"), "M_BAD_JSON");
  EXPECT_EQ(Canonical("[1.0, 10e-1, 1.5e1, 0e99999999]"), "[1,1,15,0]");
}

TEST(CanonicalJsonTest, FloatsAreRefused) {
  for (const char* text : {"[1.5]", "[0.1]", "[1e-1]", "[-2.25]", "{\"a\":3.14159}"}) {
    EXPECT_EQ(ErrcodeOf(text), "M_BAD_JSON") << text;
  }
}

TEST(CanonicalJsonTest, DuplicateKeysAreRefused) {
  EXPECT_EQ(ErrcodeOf(R"({"a":1,"a":2})"), "M_BAD_JSON");
  EXPECT_EQ(ErrcodeOf(R"({"a":1,"\u0061":2})"), "M_BAD_JSON");  // same key, escaped
}

TEST(CanonicalJsonTest, InvalidUtf8AndSurrogatesAreRefused) {
  for (const char* text : {"[\"\xff\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]",
                           "[\"\xf4\x90\x80\x80\"]", "[\"\xe2\x82\"]"}) {
    EXPECT_EQ(ErrcodeOf(text), "M_BAD_JSON") << text;
  }
  EXPECT_EQ(ErrcodeOf(R"(["\ud800"])"), "M_BAD_JSON");
  EXPECT_EQ(ErrcodeOf(R"(["\udc00"])"), "M_BAD_JSON");
  EXPECT_EQ(ErrcodeOf(R"(["\ud800\u0041"])"), "M_BAD_JSON");
}

TEST(CanonicalJsonTest, SyntaxErrorsAreNotJson) {
  for (const char* text :
       {"",          "{",     "{\"a\"}",     "{\"a\":}", "[1,]",  "[01]",       "[+1]",
        "[1.]",      "[.5]",  "[1e]",        "tru",      "nul",   "[\"a\tb\"]", "{} x",
        "[\"\\x\"]", "{a:1}", "[\"\\u12\"]", "'a'",      "[NaN]", "[Infinity]"}) {
    EXPECT_EQ(ErrcodeOf(text), "M_NOT_JSON") << text;
  }
}

TEST(CanonicalJsonTest, DepthAndSizeLimits) {
  std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(ErrcodeOf(deep), "ok");
  std::string deeper = std::string(101, '[') + std::string(101, ']');
  EXPECT_EQ(ErrcodeOf(deeper), "M_BAD_JSON");
  // A million open brackets: refused at the limit, no stack overflow.
  EXPECT_EQ(ErrcodeOf(std::string(1'000'000, '['), {.max_bytes = 2 << 20}), "M_BAD_JSON");
  EXPECT_EQ(ErrcodeOf("[1]", {.max_bytes = 2}), "M_TOO_LARGE");
}

TEST(CanonicalJsonTest, RandomBytesNeverCrash) {
  std::mt19937 rng(2753);
  const std::string alphabet = "{}[]\":,0123456789-+.eE\\u tfnrl\xff\xc3\xa9";
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    size_t len = rng() % 64;
    for (size_t j = 0; j < len; ++j) {
      text.push_back(rng() % 4 == 0 ? static_cast<char>(rng() % 256)
                                    : alphabet[rng() % alphabet.size()]);
    }
    absl::StatusOr<Json> parsed = ParseJson(text);
    if (parsed.ok()) {
      // Whatever parses must re-encode, and re-parse to the same canonical bytes.
      absl::StatusOr<std::string> once = EncodeCanonicalJson(*parsed);
      ASSERT_TRUE(once.ok()) << text;
      EXPECT_EQ(*EncodeCanonicalJson(*ParseJson(*once)), *once);
    }
  }
}

TEST(CanonicalJsonTest, EncoderRefusesWhatCanonicalJsonCannotHold) {
  EXPECT_FALSE(EncodeCanonicalJson(Json(1.5)).ok());
  EXPECT_FALSE(EncodeCanonicalJson(Json(int64_t{1} << 53)).ok());
  EXPECT_FALSE(EncodeCanonicalJson(Json(uint64_t{1} << 60)).ok());
  EXPECT_FALSE(EncodeCanonicalJson(Json("\xff")).ok());
  EXPECT_TRUE(EncodeCanonicalJson(Json(uint64_t{42})).ok());
}

// The spec appendix's signing examples: seed YJDBA9..., entity "domain", key "ed25519:1".
SigningKey SpecKey() {
  absl::StatusOr<SigningKey> key =
      ParseSigningKey("ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
  EXPECT_TRUE(key.ok()) << key.status();
  return *key;
}

TEST(JsonSigningTest, SpecVectorEmptyObject) {
  absl::StatusOr<Json> signed_json = SignJson(Json::object(), "domain", SpecKey());
  ASSERT_TRUE(signed_json.ok());
  EXPECT_EQ(
      *EncodeCanonicalJson(*signed_json),
      R"({"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}})");
}

TEST(JsonSigningTest, SpecVectorSimpleObject) {
  absl::StatusOr<Json> signed_json =
      SignJson(*ParseJson(R"({"one": 1, "two": "Two"})"), "domain", SpecKey());
  ASSERT_TRUE(signed_json.ok());
  EXPECT_EQ(
      *EncodeCanonicalJson(*signed_json),
      R"({"one":1,"signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}},"two":"Two"})");
}

TEST(JsonSigningTest, VerifyAcceptsTheSignatureAndRejectsTampering) {
  SigningKey key = SpecKey();
  Json obj = *ParseJson(R"({"one": 1, "unsigned": {"age": 5}})");
  Json signed_json = *SignJson(obj, "domain", key);
  EXPECT_TRUE(VerifyJsonSignature(signed_json, "domain", "ed25519:1", key.public_key).ok());
  signed_json["unsigned"]["age"] = 6;  // not covered by the signature
  EXPECT_TRUE(VerifyJsonSignature(signed_json, "domain", "ed25519:1", key.public_key).ok());
  signed_json["one"] = 2;
  EXPECT_EQ(VerifyJsonSignature(signed_json, "domain", "ed25519:1", key.public_key).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(VerifyJsonSignature(signed_json, "other", "ed25519:1", key.public_key).ok());
  EXPECT_FALSE(VerifyJsonSignature(signed_json, "domain", "ed25519:2", key.public_key).ok());
  EXPECT_FALSE(VerifyJsonSignature(Json::array(), "domain", "ed25519:1", key.public_key).ok());
}

}  // namespace
}  // namespace periscope::matrix
