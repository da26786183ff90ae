// PgServerKeyStore on a real PostgreSQL: it stores what FakeServerKeyStore stores (the keyring's
// unit tests rely on that), including the 7-day cap and the old keys.

#include "gtest/gtest.h"
#include "internal/federationapi/storage/pg_server_key_store.h"
#include "pkg/matrix/signing_key.h"
#include "tests/testing/test_services.h"

namespace periscope::federationapi {
namespace {

class PgServerKeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = periscope::testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto pool = pg::Pool::Create({.dsn = db_->dsn()});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    ASSERT_TRUE(pg::ApplyMigrations(*pool_, "federationapi", FederationApiMigrations()).ok());
    store_ = std::make_unique<PgServerKeyStore>(*pool_);
  }
  std::unique_ptr<periscope::testing::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgServerKeyStore> store_;
};

TEST_F(PgServerKeyStoreTest, KeysAndDocumentsRoundTripWithTheSevenDayCap) {
  absl::Time fetched = absl::FromUnixMillis(1'700'000'000'000);
  matrix::ServerKeys keys;
  keys.server_name = "remote.test";
  std::string pk(32, '\0');
  pk[0] = '\x01';
  pk[31] = '\xff';
  keys.verify_keys["ed25519:a"] = pk;
  keys.old_verify_keys["ed25519:old"] = {std::string(32, 'x'), fetched - absl::Hours(1)};
  keys.valid_until = fetched + absl::Hours(24 * 30);
  ASSERT_TRUE(
      store_->StoreDocument("remote.test", keys, R"({"server_name":"remote.test"})", fetched).ok());
  auto current = store_->Key("remote.test", "ed25519:a");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->public_key, pk);  // binary bytes survive, NULs and 0xff included
  EXPECT_EQ((*current)->valid_until, fetched + kMaxKeyValidity);
  EXPECT_FALSE((*current)->expired.has_value());
  auto old = store_->Key("remote.test", "ed25519:old");
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ((*old)->expired, fetched - absl::Hours(1));
  EXPECT_FALSE(store_->Key("remote.test", "ed25519:none")->has_value());
  EXPECT_FALSE(store_->Key("other.test", "ed25519:a")->has_value());
  auto doc = store_->Document("remote.test");
  ASSERT_TRUE(doc.ok() && doc->has_value());
  EXPECT_EQ((*doc)->document_json, R"({"server_name":"remote.test"})");
  EXPECT_EQ((*doc)->valid_until, keys.valid_until);
  EXPECT_EQ((*doc)->fetched, fetched);

  // The key moves to old_verify_keys in a later document: it stops being current.
  matrix::ServerKeys rotated;
  rotated.verify_keys["ed25519:b"] = std::string(32, 'b');
  rotated.old_verify_keys["ed25519:a"] = {pk, fetched + absl::Hours(2)};
  rotated.valid_until = fetched + absl::Hours(48);
  ASSERT_TRUE(store_->StoreDocument("remote.test", rotated, "{}", fetched + absl::Hours(3)).ok());
  auto moved = store_->Key("remote.test", "ed25519:a");
  ASSERT_TRUE(moved.ok() && moved->has_value());
  EXPECT_EQ((*moved)->expired, fetched + absl::Hours(2));
  EXPECT_EQ((*store_->Document("remote.test"))->document_json, "{}");
}

}  // namespace
}  // namespace periscope::federationapi
