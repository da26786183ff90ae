// The keyring and request authentication, with a fake key source and an in-memory store. What
// must not happen: a request or event accepted under a forged, foreign or expired key; a document
// stored without its signatures checked; a server asked for its keys again and again.

#include "internal/federationapi/keyring/keyring.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "internal/federationapi/keyring/request_verifier.h"
#include "internal/federationapi/testing/fake_key_fetcher.h"
#include "internal/federationapi/testing/fake_server_key_store.h"
#include "pkg/matrix/base64.h"
#include "pkg/matrix/json_signing.h"
#include "pkg/matrix/server_keys.h"
#include "pkg/matrix/x_matrix.h"
#include "pkg/status/matrix_status.h"

namespace periscope::federationapi {
namespace {

using matrix::Json;
using matrix::SigningKey;

using testing::FakeKeyFetcher;

class KeyringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ours_ = *matrix::GenerateSigningKey("ours");
    remote_ = *matrix::GenerateSigningKey("r1");
    notary_key_ = *matrix::GenerateSigningKey("n1");
    fetcher_.direct["remote.test"] = KeyDoc("remote.test", remote_, absl::Hours(24));
    fetcher_.direct["notary.test"] = KeyDoc("notary.test", notary_key_, absl::Hours(24));
    keyring_ = std::make_unique<Keyring>("us.test", ours_, store_, fetcher_,
                                         std::vector<std::string>{"notary.test"}, clock_);
    verifier_ = std::make_unique<RequestVerifier>("us.test", *keyring_);
  }

  Json KeyDoc(const std::string& server, const SigningKey& key, absl::Duration validity,
              Json old_keys = Json::object()) {
    Json doc = *matrix::BuildServerKeys(server, key, clock_.Now() + validity);
    doc.erase("signatures");
    doc["old_verify_keys"] = old_keys;
    return *matrix::SignJson(doc, server, key);
  }

  InboundRequest Signed(const std::string& method, const std::string& target,
                        const std::optional<Json>& body, const SigningKey& key,
                        const std::string& origin = "remote.test",
                        const std::string& destination = "us.test") {
    InboundRequest r{method, target, {}, body ? body->dump() : ""};
    r.authorization.push_back(
        *matrix::BuildXMatrixAuthorization(method, target, origin, destination, body, key));
    return r;
  }

  SimulatedClock clock_;
  SigningKey ours_, remote_, notary_key_;
  testing::FakeServerKeyStore store_;
  FakeKeyFetcher fetcher_;
  std::unique_ptr<Keyring> keyring_;
  std::unique_ptr<RequestVerifier> verifier_;
};

TEST_F(KeyringTest, ASignedRequestIsAuthenticatedAndTheKeyIsFetchedOnce) {
  Json body = {{"pdus", Json::array()}};
  auto ok = verifier_->Verify(Signed("PUT", "/_matrix/federation/v1/send/1", body, remote_));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->origin, "remote.test");
  EXPECT_EQ(ok->content, body);
  ASSERT_TRUE(verifier_->Verify(Signed("GET", "/_matrix/federation/v1/version", {}, remote_)).ok());
  EXPECT_EQ(fetcher_.direct_fetches, 1);
  EXPECT_EQ(store_.documents_stored, 1);
}

TEST_F(KeyringTest, AForgedOrTamperedRequestIsRefused) {
  SigningKey impostor = *matrix::GenerateSigningKey("r1");  // same key id, another key
  auto forged = verifier_->Verify(Signed("GET", "/x", {}, impostor));
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(MatrixErrcode(forged.status()).value_or(""), "M_UNAUTHORIZED");
  // Signed over one target, sent to another.
  InboundRequest moved = Signed("GET", "/_matrix/federation/v1/state/a", {}, remote_);
  moved.target = "/_matrix/federation/v1/state/b";
  EXPECT_EQ(verifier_->Verify(moved).status().code(), absl::StatusCode::kUnauthenticated);
  // Signed over one body, sent with another.
  InboundRequest changed = Signed("PUT", "/s", Json{{"a", 1}}, remote_);
  changed.body = R"({"a":2})";
  EXPECT_EQ(verifier_->Verify(changed).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(KeyringTest, MissingMalformedOrMisaddressedHeadersAreRefusedWithoutFetchingKeys) {
  InboundRequest none{"GET", "/x", {}, ""};
  EXPECT_EQ(MatrixErrcode(verifier_->Verify(none).status()).value_or(""), "M_UNAUTHORIZED");
  InboundRequest garbage{"GET", "/x", {"X-Matrix nonsense"}, ""};
  EXPECT_EQ(verifier_->Verify(garbage).status().code(), absl::StatusCode::kUnauthenticated);
  InboundRequest bearer{"GET", "/x", {"Bearer abc"}, ""};
  EXPECT_EQ(verifier_->Verify(bearer).status().code(), absl::StatusCode::kUnauthenticated);
  auto elsewhere =
      verifier_->Verify(Signed("GET", "/x", {}, remote_, "remote.test", "someone.else"));
  EXPECT_EQ(elsewhere.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(fetcher_.direct_fetches, 0);
}

TEST_F(KeyringTest, HeadersFromTwoOriginsAreRefused) {
  InboundRequest r = Signed("GET", "/x", {}, remote_);
  r.authorization.push_back(
      *matrix::BuildXMatrixAuthorization("GET", "/x", "notary.test", "us.test", {}, notary_key_));
  EXPECT_EQ(verifier_->Verify(r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(KeyringTest, ABodyThatIsNotAJsonObjectIsABadRequest) {
  InboundRequest r = Signed("PUT", "/s", Json{{"a", 1}}, remote_);
  r.body = "[1]";
  EXPECT_EQ(MatrixErrcode(verifier_->Verify(r).status()).value_or(""), "M_NOT_JSON");
  r.body = "{not json";
  EXPECT_EQ(MatrixErrcode(verifier_->Verify(r).status()).value_or(""), "M_NOT_JSON");
}

TEST_F(KeyringTest, AnExpiredKeyIsRefusedForRequests) {
  fetcher_.direct["remote.test"] = KeyDoc("remote.test", remote_, absl::Hours(2));
  ASSERT_TRUE(verifier_->Verify(Signed("GET", "/x", {}, remote_)).ok());
  clock_.Advance(absl::Hours(3));  // the server is still publishing the same 2-hour-old document
  auto late = verifier_->Verify(Signed("GET", "/x", {}, remote_));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(fetcher_.direct_fetches, 2);  // it asked again before refusing
}

TEST_F(KeyringTest, KeysAreTrustedForSevenDaysAtMostWhateverTheDocumentSays) {
  fetcher_.direct["remote.test"] = KeyDoc("remote.test", remote_, absl::Hours(24 * 365));
  absl::Time fetched = clock_.Now();
  ASSERT_TRUE(keyring_->PublicKey("remote.test", remote_.key_id, fetched).ok());
  fetcher_.direct.erase("remote.test");  // it goes away
  clock_.Advance(absl::Hours(24 * 8));
  EXPECT_FALSE(keyring_->PublicKey("remote.test", remote_.key_id, clock_.Now()).ok());
  // An event sent while the key was trusted still verifies.
  EXPECT_TRUE(keyring_->PublicKey("remote.test", remote_.key_id, fetched + absl::Hours(1)).ok());
}

TEST_F(KeyringTest, OldKeysVerifyOnlyEventsSentBeforeTheyExpired) {
  SigningKey old = *matrix::GenerateSigningKey("r0");
  absl::Time expired = clock_.Now() - absl::Hours(1);
  fetcher_.direct["remote.test"] = KeyDoc("remote.test", remote_, absl::Hours(24),
                                          {{old.key_id,
                                            {{"key", matrix::EncodeBase64(old.public_key)},
                                             {"expired_ts", absl::ToUnixMillis(expired)}}}});
  EXPECT_TRUE(keyring_->PublicKey("remote.test", old.key_id, expired - absl::Minutes(1)).ok());
  EXPECT_FALSE(keyring_->PublicKey("remote.test", old.key_id, expired + absl::Minutes(1)).ok());
  // Nor for requests: old keys only sign events, even before they expire.
  EXPECT_EQ(verifier_->Verify(Signed("GET", "/x", {}, old)).status().code(),
            absl::StatusCode::kUnauthenticated);
  SigningKey retiring = *matrix::GenerateSigningKey("r2");
  fetcher_.direct["other.test"] =
      KeyDoc("other.test", notary_key_, absl::Hours(24),
             {{retiring.key_id,
               {{"key", matrix::EncodeBase64(retiring.public_key)},
                {"expired_ts", absl::ToUnixMillis(clock_.Now() + absl::Hours(24))}}}});
  EXPECT_TRUE(keyring_->PublicKey("other.test", retiring.key_id, clock_.Now()).ok());
  EXPECT_EQ(verifier_->Verify(Signed("GET", "/x", {}, retiring, "other.test")).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Room version 4 events are not checked for validity.
  EXPECT_TRUE(keyring_->PublicKey("remote.test", old.key_id, absl::InfinitePast()).ok());
}

TEST_F(KeyringTest, ADocumentNotSignedByItsOwnKeysOrForAnotherServerIsNotStored) {
  SigningKey other = *matrix::GenerateSigningKey("r1");
  Json unsigned_by_own = KeyDoc("remote.test", remote_, absl::Hours(24));
  unsigned_by_own["signatures"] = {{"remote.test", {{"ed25519:r1", "AAAA"}}}};
  fetcher_.direct["remote.test"] = unsigned_by_own;
  EXPECT_FALSE(keyring_->PublicKey("remote.test", remote_.key_id, clock_.Now()).ok());
  fetcher_.direct["impostor.test"] = KeyDoc("remote.test", other, absl::Hours(24));
  EXPECT_FALSE(keyring_->PublicKey("impostor.test", other.key_id, clock_.Now()).ok());
  EXPECT_EQ(store_.documents_stored, 0);
}

TEST_F(KeyringTest, MadeUpKeyIdsDoNotMakeUsAskAgainAndAgain) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(
        keyring_->PublicKey("remote.test", absl::StrCat("ed25519:x", i), clock_.Now()).ok());
  }
  EXPECT_EQ(fetcher_.direct_fetches, 1);
  clock_.Advance(Keyring::kRefetchAfter + absl::Seconds(1));
  EXPECT_FALSE(keyring_->PublicKey("remote.test", "ed25519:y", clock_.Now()).ok());
  EXPECT_EQ(fetcher_.direct_fetches, 2);
}

TEST_F(KeyringTest, ConcurrentCallersShareOneFetch) {
  fetcher_.Block();
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      if (keyring_->PublicKey("remote.test", remote_.key_id, clock_.Now()).ok()) ++ok;
    });
  }
  absl::SleepFor(absl::Milliseconds(200));  // all of them are waiting on the one fetch
  fetcher_.Unblock();
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(fetcher_.fetches(), 1);
}

TEST_F(KeyringTest, ANotaryIsAskedWhenTheServerIsUnreachableAndMustSignItsAnswer) {
  Json doc = KeyDoc("remote.test", remote_, absl::Hours(24));
  fetcher_.direct.erase("remote.test");
  // Not signed by the notary: refused.
  fetcher_.notary_answers[{"notary.test", "remote.test"}] = {doc};
  EXPECT_FALSE(keyring_->PublicKey("remote.test", remote_.key_id, clock_.Now()).ok());
  EXPECT_EQ(fetcher_.notary_fetches, 1);
  // Signed by the notary, but the origin's document was altered (its validity extended): refused,
  // the origin's own signature must still hold.
  Json forged = doc;
  forged["valid_until_ts"] = absl::ToUnixMillis(clock_.Now() + absl::Hours(24 * 6));
  fetcher_.notary_answers[{"notary.test", "remote.test"}] = {
      *matrix::SignJson(forged, "notary.test", notary_key_)};
  clock_.Advance(Keyring::kRefetchAfter + absl::Seconds(1));
  EXPECT_FALSE(keyring_->PublicKey("remote.test", remote_.key_id, clock_.Now()).ok());
  // Genuine and signed by the notary: accepted.
  fetcher_.notary_answers[{"notary.test", "remote.test"}] = {
      *matrix::SignJson(doc, "notary.test", notary_key_)};
  clock_.Advance(Keyring::kRefetchAfter + absl::Seconds(1));
  auto key = keyring_->PublicKey("remote.test", remote_.key_id, clock_.Now());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, remote_.public_key);
  // The stored document keeps only the origin's signature.
  auto stored = keyring_->KeyDocument("remote.test", clock_.Now());
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE((*stored)["signatures"].contains("notary.test"));
}

TEST_F(KeyringTest, AReadThatRacedAheadOfAnotherCallersFetchIsRetriedNotRefused) {
  ASSERT_TRUE(keyring_->PublicKey("remote.test", remote_.key_id, clock_.Now()).ok());
  // This caller's first read missed (another caller's fetch had not stored yet), and its own
  // fetch is refused (one ran moments ago): it must read again rather than answer 401.
  store_.miss_next_reads = 1;
  EXPECT_TRUE(keyring_->PublicKey("remote.test", remote_.key_id, clock_.Now()).ok());
  EXPECT_EQ(fetcher_.direct_fetches, 1);
}

TEST_F(KeyringTest, NotariesVouchingForEachOtherCannotDeadlockAndTheirOwnKeysAreFetchedDirectly) {
  Keyring keyring("us.test", ours_, store_, fetcher_, {"notary.test", "notary2.test"}, clock_);
  SigningKey notary2 = *matrix::GenerateSigningKey("n2");
  fetcher_.direct["notary2.test"] = KeyDoc("notary2.test", notary2, absl::Hours(24));
  Json doc = KeyDoc("remote.test", remote_, absl::Hours(24));
  fetcher_.direct.erase("remote.test");
  fetcher_.direct.erase(
      "notary.test");  // notary.test's own key cannot be had: its answer is not trusted
  fetcher_.notary_answers[{"notary.test", "remote.test"}] = {
      *matrix::SignJson(doc, "notary.test", notary_key_)};
  fetcher_.notary_answers[{"notary2.test", "remote.test"}] = {
      *matrix::SignJson(doc, "notary2.test", notary2)};
  auto key = keyring.PublicKey("remote.test", remote_.key_id, clock_.Now());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(fetcher_.notary_fetches, 2);
}

TEST_F(KeyringTest, OurOwnKeyNeedsNoFetch) {
  EXPECT_EQ(*keyring_->PublicKey("us.test", ours_.key_id, clock_.Now()), ours_.public_key);
  EXPECT_FALSE(keyring_->PublicKey("us.test", "ed25519:other", clock_.Now()).ok());
  EXPECT_EQ(fetcher_.direct_fetches, 0);
}

TEST_F(KeyringTest, KeyDocumentsAreServedStaleWhenTheServerIsGone) {
  fetcher_.direct["remote.test"] = KeyDoc("remote.test", remote_, absl::Hours(2));
  ASSERT_TRUE(keyring_->KeyDocument("remote.test", clock_.Now()).ok());
  fetcher_.direct.erase("remote.test");
  clock_.Advance(absl::Hours(5));
  auto stale = keyring_->KeyDocument("remote.test", clock_.Now());
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_EQ((*stale)["server_name"], "remote.test");
  EXPECT_EQ(keyring_->KeyDocument("never.test", clock_.Now()).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace periscope::federationapi
