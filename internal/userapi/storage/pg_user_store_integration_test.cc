// PgUserStore on a real PostgreSQL.

#include "gtest/gtest.h"
#include "internal/userapi/storage/pg_user_store.h"
#include "tests/testing/test_services.h"

namespace periscope::userapi {
namespace {

class PgUserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto pool = pg::Pool::Create({.dsn = db_->dsn()});
    ASSERT_TRUE(pool.ok()) << pool.status();
    pool_ = *std::move(pool);
    ASSERT_TRUE(pg::ApplyMigrations(*pool_, "userapi", UserApiMigrations()).ok());
    store_ = std::make_unique<PgUserStore>(*pool_);
  }
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<PgUserStore> store_;
};

TEST_F(PgUserStoreTest, AccountsAndDevicesRoundTrip) {
  NewDevice d{"DEV1", "phone", "hash1"};
  ASSERT_TRUE(store_->CreateAccount("alice", "$argon2id$x", &d, 1000).ok());
  EXPECT_TRUE(*store_->AccountExists("alice"));
  EXPECT_FALSE(*store_->AccountExists("bob"));
  EXPECT_EQ(**store_->PasswordHash("alice"), "$argon2id$x");
  EXPECT_FALSE(store_->PasswordHash("bob")->has_value());
  std::optional<StoredDevice> found = *store_->DeviceByTokenHash("hash1");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->localpart, "alice");
  EXPECT_EQ(found->device_id, "DEV1");
  EXPECT_EQ(found->display_name, "phone");
}

TEST_F(PgUserStoreTest, DuplicateAccountIsAlreadyExistsAndWritesNothing) {
  NewDevice d{"DEV1", "", "hash1"};
  ASSERT_TRUE(store_->CreateAccount("alice", "h", nullptr, 1).ok());
  EXPECT_EQ(store_->CreateAccount("alice", "h2", &d, 2).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(store_->DeviceByTokenHash("hash1")->has_value());
  EXPECT_EQ(**store_->PasswordHash("alice"), "h");
}

TEST_F(PgUserStoreTest, UpsertReplacesTokenAndDeletesWork) {
  ASSERT_TRUE(store_->CreateAccount("alice", "h", nullptr, 1).ok());
  ASSERT_TRUE(store_->UpsertDevice("alice", {"D", "", "t1"}, 2).ok());
  ASSERT_TRUE(store_->UpsertDevice("alice", {"D", "", "t2"}, 3).ok());
  ASSERT_TRUE(store_->UpsertDevice("alice", {"E", "", "t3"}, 3).ok());
  EXPECT_FALSE(store_->DeviceByTokenHash("t1")->has_value());
  EXPECT_TRUE(store_->DeviceByTokenHash("t2")->has_value());
  EXPECT_TRUE(store_->DeleteDevice("alice", "D").ok());
  EXPECT_EQ(store_->DeleteDevice("alice", "D").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*store_->DeleteAllDevices("alice"), 1);
  EXPECT_FALSE(store_->DeviceByTokenHash("t3")->has_value());
}

}  // namespace
}  // namespace periscope::userapi
