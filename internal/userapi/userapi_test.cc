// The userapi's verbs on an in-memory store.

#include "gtest/gtest.h"
#include "internal/userapi/perform/account_creator.h"
#include "internal/userapi/perform/device_logout.h"
#include "internal/userapi/perform/password_login.h"
#include "internal/userapi/perform/profile_editor.h"
#include "internal/userapi/query/access_token_query.h"
#include "internal/userapi/testing/fake_user_store.h"
#include "pkg/crypto/random.h"
#include "pkg/status/matrix_status.h"

namespace periscope::userapi {
namespace {

constexpr char kServer[] = "example.org";

class UserApiTest : public ::testing::Test {
 protected:
  UserApiTest()
      : hasher_(1, 8),
        creator_(store_, hasher_, clock_, kServer, /*registration_enabled=*/true),
        login_(store_, hasher_, clock_, kServer),
        tokens_(store_, kServer),
        logout_(store_, kServer),
        profiles_(store_, kServer) {
    crypto::InitSodium();
  }

  absl::StatusOr<v1::PerformAccountCreationResponse> Register(const std::string& localpart,
                                                              const std::string& password = "pw",
                                                              bool inhibit_login = false) {
    v1::PerformAccountCreationRequest req;
    req.set_localpart(localpart);
    req.set_password(password);
    req.set_account_type(v1::ACCOUNT_TYPE_USER);
    req.set_inhibit_login(inhibit_login);
    req.set_initial_device_display_name("phone");
    return creator_.Create(req);
  }

  absl::StatusOr<v1::PerformPasswordLoginResponse> Login(const std::string& user,
                                                         const std::string& password,
                                                         const std::string& device_id = "") {
    v1::PerformPasswordLoginRequest req;
    req.set_user(user);
    req.set_password(password);
    req.set_device_id(device_id);
    return login_.Login(req);
  }

  FakeUserStore store_;
  SimulatedClock clock_;
  crypto::PasswordHasher hasher_;
  AccountCreator creator_;
  PasswordLogin login_;
  AccessTokenQuery tokens_;
  DeviceLogout logout_;
  ProfileEditor profiles_;
};

TEST_F(UserApiTest, RegisterIssuesAWorkingToken) {
  absl::StatusOr<v1::PerformAccountCreationResponse> r = Register("alice");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->user_id(), "@alice:example.org");
  EXPECT_EQ(r->device_id().size(), 10u);
  EXPECT_TRUE(r->access_token().starts_with("psc_"));
  absl::StatusOr<v1::Device> d = tokens_.Resolve(r->access_token());
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->user_id(), "@alice:example.org");
  EXPECT_EQ(d->device_id(), r->device_id());
  EXPECT_EQ(d->display_name(), "phone");
}

TEST_F(UserApiTest, RegisterTakenNameIsUserInUse) {
  ASSERT_TRUE(Register("bob").ok());
  absl::Status s = Register("bob").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(MatrixErrcode(s), "M_USER_IN_USE");
}

TEST_F(UserApiTest, RegisterInvalidNameIsInvalidUsername) {
  EXPECT_EQ(MatrixErrcode(Register("Bob").status()), "M_INVALID_USERNAME");
  EXPECT_EQ(MatrixErrcode(Register("b o b").status()), "M_INVALID_USERNAME");
  EXPECT_EQ(MatrixErrcode(Register(std::string(300, 'a')).status()), "M_INVALID_USERNAME");
}

TEST_F(UserApiTest, RegisterWithoutUsernamePicksOne) {
  absl::StatusOr<v1::PerformAccountCreationResponse> r = Register("");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->user_id().ends_with(":example.org"));
}

TEST_F(UserApiTest, InhibitLoginCreatesNoDevice) {
  absl::StatusOr<v1::PerformAccountCreationResponse> r = Register("carol", "pw", true);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->access_token().empty());
  EXPECT_TRUE(r->device_id().empty());
  EXPECT_EQ(store_.device_count(), 0u);
}

TEST_F(UserApiTest, PasswordRules) {
  EXPECT_EQ(MatrixErrcode(Register("dan", "").status()), "M_MISSING_PARAM");
  EXPECT_EQ(MatrixErrcode(Register("dan", std::string(600, 'x')).status()), "M_WEAK_PASSWORD");
}

TEST_F(UserApiTest, GuestsAndDisabledRegistrationAreRefused) {
  v1::PerformAccountCreationRequest req;
  req.set_localpart("guest");
  req.set_password("pw");
  req.set_account_type(v1::ACCOUNT_TYPE_GUEST);
  EXPECT_EQ(MatrixErrcode(creator_.Create(req).status()), "M_GUEST_ACCESS_FORBIDDEN");

  AccountCreator closed(store_, hasher_, clock_, kServer, /*registration_enabled=*/false);
  req.set_account_type(v1::ACCOUNT_TYPE_USER);
  absl::Status s = closed.Create(req).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(MatrixErrcode(s), "M_FORBIDDEN");
}

TEST_F(UserApiTest, Availability) {
  ASSERT_TRUE(Register("erin").ok());
  EXPECT_FALSE(*creator_.Available("erin"));
  EXPECT_TRUE(*creator_.Available("frank"));
  EXPECT_EQ(MatrixErrcode(creator_.Available("Frank").status()), "M_INVALID_USERNAME");
}

TEST_F(UserApiTest, LoginByLocalpartOrUserIdCaseInsensitively) {
  ASSERT_TRUE(Register("gina", "secret").ok());
  for (const char* user : {"gina", "@gina:example.org", "GINA"}) {
    absl::StatusOr<v1::PerformPasswordLoginResponse> r = Login(user, "secret");
    ASSERT_TRUE(r.ok()) << user << ": " << r.status();
    EXPECT_EQ(r->user_id(), "@gina:example.org");
    EXPECT_TRUE(tokens_.Resolve(r->access_token()).ok());
  }
}

TEST_F(UserApiTest, WrongPasswordAndUnknownUserLookTheSame) {
  ASSERT_TRUE(Register("hank", "secret").ok());
  absl::Status wrong = Login("hank", "nope").status();
  absl::Status unknown = Login("nobody", "secret").status();
  absl::Status remote = Login("@hank:elsewhere.org", "secret").status();
  for (const absl::Status& s : {wrong, unknown, remote}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(MatrixErrcode(s), "M_FORBIDDEN");
    EXPECT_EQ(s.message(), "Invalid username or password");
  }
}

TEST_F(UserApiTest, LoginWithExistingDeviceIdReplacesItsToken) {
  ASSERT_TRUE(Register("ida", "pw").ok());
  absl::StatusOr<v1::PerformPasswordLoginResponse> first = Login("ida", "pw", "LAPTOP");
  absl::StatusOr<v1::PerformPasswordLoginResponse> second = Login("ida", "pw", "LAPTOP");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(second->device_id(), "LAPTOP");
  EXPECT_FALSE(tokens_.Resolve(first->access_token()).ok());
  EXPECT_TRUE(tokens_.Resolve(second->access_token()).ok());
}

TEST_F(UserApiTest, BadDeviceIdsAreInvalidParam) {
  ASSERT_TRUE(Register("ivy", "pw").ok());
  for (const std::string& bad : {std::string(256, 'D'), std::string("TAB\tBED")}) {
    absl::StatusOr<v1::PerformPasswordLoginResponse> login = Login("ivy", "pw", bad);
    EXPECT_EQ(MatrixErrcode(login.status()), "M_INVALID_PARAM") << login.status();
    v1::PerformAccountCreationRequest req;
    req.set_localpart("ivy2");
    req.set_password("pw");
    req.set_account_type(v1::ACCOUNT_TYPE_USER);
    req.set_device_id(bad);
    EXPECT_EQ(MatrixErrcode(creator_.Create(req).status()), "M_INVALID_PARAM");
  }
  EXPECT_TRUE(Login("ivy", "pw", std::string(255, 'D')).ok());
}

TEST_F(UserApiTest, ProfilesStartWithTheLocalpartAndChange) {
  ASSERT_TRUE(Register("pat", "pw").ok());
  v1::QueryProfileRequest query;
  query.set_user_id("@pat:example.org");
  absl::StatusOr<v1::QueryProfileResponse> profile = profiles_.Query(query);
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(profile->displayname(), "pat");
  EXPECT_FALSE(profile->has_avatar_url());

  v1::PerformSetProfileRequest set;
  set.set_user_id("@pat:example.org");
  set.set_avatar_url("mxc://example.org/a");
  ASSERT_TRUE(profiles_.Set(set).ok());
  set.clear_avatar_url();
  set.set_displayname("");  // clears the name, keeps the avatar
  ASSERT_TRUE(profiles_.Set(set).ok());
  profile = profiles_.Query(query);
  EXPECT_FALSE(profile->has_displayname());
  EXPECT_EQ(profile->avatar_url(), "mxc://example.org/a");

  set.set_avatar_url("https://example.org/a.png");
  EXPECT_EQ(MatrixErrcode(profiles_.Set(set).status()), "M_INVALID_PARAM");
  query.set_user_id("@ghost:example.org");
  EXPECT_EQ(MatrixErrcode(profiles_.Query(query).status()), "M_NOT_FOUND");
  query.set_user_id("@pat:elsewhere.org");
  EXPECT_EQ(MatrixErrcode(profiles_.Query(query).status()), "M_NOT_FOUND");
}

TEST_F(UserApiTest, UnknownTokenIsUnknownToken) {
  for (const std::string& t : {std::string(""), std::string("psc_nope"), std::string(1000, 'x')}) {
    absl::Status s = tokens_.Resolve(t).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(MatrixErrcode(s), "M_UNKNOWN_TOKEN");
  }
}

TEST_F(UserApiTest, LogoutAndLogoutAll) {
  absl::StatusOr<v1::PerformAccountCreationResponse> reg = Register("jo", "pw");
  absl::StatusOr<v1::PerformPasswordLoginResponse> second = Login("jo", "pw");
  ASSERT_TRUE(reg.ok() && second.ok());
  ASSERT_TRUE(logout_.Logout("@jo:example.org", reg->device_id()).ok());
  EXPECT_FALSE(tokens_.Resolve(reg->access_token()).ok());
  EXPECT_TRUE(tokens_.Resolve(second->access_token()).ok());
  EXPECT_EQ(MatrixErrcode(logout_.Logout("@jo:example.org", reg->device_id())), "M_NOT_FOUND");
  ASSERT_TRUE(Login("jo", "pw").ok());
  EXPECT_EQ(*logout_.LogoutAll("@jo:example.org"), 2);
  EXPECT_FALSE(tokens_.Resolve(second->access_token()).ok());
}

TEST_F(UserApiTest, StoreOutageSurfacesAsUnavailable) {
  store_.FailNext(absl::UnavailableError("database down"));
  EXPECT_EQ(Register("kim").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Register("kim").ok());  // and nothing half-written: the name is still free
}

}  // namespace
}  // namespace periscope::userapi
