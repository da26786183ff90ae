#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "pkg/crypto/digest.h"
#include "pkg/crypto/password_hasher.h"
#include "pkg/crypto/random.h"

namespace periscope::crypto {
namespace {

TEST(DigestTest, Sha256HexKnownVector) {
  ASSERT_TRUE(InitSodium());
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("abc").size(), 32u);
}

TEST(RandomTest, RandomStringUsesAlphabetAndDiffers) {
  ASSERT_TRUE(InitSodium());
  std::string a = RandomString(32, "AB");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("AB"), std::string::npos);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

TEST(PasswordHasherTest, HashVerifiesAndRejectsWrongPassword) {
  ASSERT_TRUE(InitSodium());
  PasswordHasher hasher(1, 8);  // cheapest cost: the algorithm, not the cost, is under test
  absl::StatusOr<std::string> hash = hasher.Hash("correct horse");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(*hasher.Verify(*hash, "correct horse"));
  EXPECT_FALSE(*hasher.Verify(*hash, "correct horsE"));
  EXPECT_FALSE(*hasher.Verify("not a hash", "correct horse"));
  EXPECT_NE(*hasher.Hash("correct horse"), *hash);  // salted
}

TEST(PasswordHasherTest, HashesFromAnotherCostStillVerify) {
  ASSERT_TRUE(InitSodium());
  PasswordHasher cheap(1, 8);
  PasswordHasher other(2, 16);
  EXPECT_TRUE(*other.Verify(*cheap.Hash("pw"), "pw"));
}

TEST(PasswordHasherTest, ABurstBeyondTheSlotsAndTheQueueIsRefusedNotRunInParallel) {
  // One slot, no queue: while one costly hash runs, another caller is refused at once, so a
  // burst of logins can never hold more than max_concurrent x mem_limit of memory.
  PasswordHasher hasher(3, 64 * 1024, {.max_concurrent = 1, .max_waiting = 0});
  std::thread slow([&] { EXPECT_TRUE(hasher.Hash("slow").ok()); });
  while (hasher.running() == 0) std::this_thread::yield();
  absl::StatusOr<std::string> refused = hasher.Hash("second");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(hasher.Verify("$argon2id$x", "pw").status().code(),
            absl::StatusCode::kResourceExhausted);
  slow.join();
  EXPECT_TRUE(hasher.Hash("after").ok());  // the slot is free again
}

TEST(PasswordHasherTest, WaitersGetTheSlotInTurnWithinTheirWait) {
  PasswordHasher hasher(1, 8, {.max_concurrent = 1, .max_waiting = 8});
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] { ok += hasher.Hash("pw").ok() ? 1 : 0; });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(ok.load(), 8);
}

}  // namespace
}  // namespace periscope::crypto
