#pragma once
// The UserApiService gRPC service: unwraps requests and hands each to its verb.

#include "internal/userapi/perform/account_creator.h"
#include "internal/userapi/perform/device_logout.h"
#include "internal/userapi/perform/password_login.h"
#include "internal/userapi/perform/profile_editor.h"
#include "internal/userapi/query/access_token_query.h"
#include "periscope/userapi/v1/userapi_service.grpc.pb.h"

namespace periscope::userapi {

class UserApiServiceImpl final : public v1::UserApiService::Service {
 public:
  UserApiServiceImpl(AccountCreator& creator, PasswordLogin& login, AccessTokenQuery& tokens,
                     DeviceLogout& logout, ProfileEditor& profiles)
      : creator_(creator), login_(login), tokens_(tokens), logout_(logout), profiles_(profiles) {}

  grpc::Status PerformAccountCreation(grpc::ServerContext* ctx,
                                      const v1::PerformAccountCreationRequest* request,
                                      v1::PerformAccountCreationResponse* response) override;
  grpc::Status QueryAccountAvailability(grpc::ServerContext* ctx,
                                        const v1::QueryAccountAvailabilityRequest* request,
                                        v1::QueryAccountAvailabilityResponse* response) override;
  grpc::Status PerformPasswordLogin(grpc::ServerContext* ctx,
                                    const v1::PerformPasswordLoginRequest* request,
                                    v1::PerformPasswordLoginResponse* response) override;
  grpc::Status QueryAccessToken(grpc::ServerContext* ctx,
                                const v1::QueryAccessTokenRequest* request,
                                v1::QueryAccessTokenResponse* response) override;
  grpc::Status PerformLogout(grpc::ServerContext* ctx, const v1::PerformLogoutRequest* request,
                             v1::PerformLogoutResponse* response) override;
  grpc::Status PerformLogoutAll(grpc::ServerContext* ctx,
                                const v1::PerformLogoutAllRequest* request,
                                v1::PerformLogoutAllResponse* response) override;
  grpc::Status QueryProfile(grpc::ServerContext* ctx, const v1::QueryProfileRequest* request,
                            v1::QueryProfileResponse* response) override;
  grpc::Status PerformSetProfile(grpc::ServerContext* ctx,
                                 const v1::PerformSetProfileRequest* request,
                                 v1::PerformSetProfileResponse* response) override;

 private:
  AccountCreator& creator_;
  PasswordLogin& login_;
  AccessTokenQuery& tokens_;
  DeviceLogout& logout_;
  ProfileEditor& profiles_;
};

}  // namespace periscope::userapi
