#include "pkg/grpc/grpc_server.h"

#include <chrono>
#include <future>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "periscope/userapi/v1/userapi_service.grpc.pb.h"
#include "pkg/grpc/async_call.h"
#include "pkg/grpc/channel.h"
#include "pkg/grpc/status_conversion.h"
#include "pkg/status/matrix_status.h"
#include "prometheus/text_serializer.h"

namespace periscope::grpcutil {
namespace {

namespace v1 = periscope::userapi::v1;

// Answers QueryAccountAvailability: "taken" is in use (with an errcode), anything else is free.
// Every other method is left to the generated base class, i.e. UNIMPLEMENTED.
class FakeUserApi final : public v1::UserApiService::Service {
  grpc::Status QueryAccountAvailability(grpc::ServerContext* ctx,
                                        const v1::QueryAccountAvailabilityRequest* req,
                                        v1::QueryAccountAvailabilityResponse* resp) override {
    if (req->localpart() == "taken") {
      return ToGrpcStatus(MatrixError(absl::StatusCode::kAlreadyExists, "M_USER_IN_USE", "taken"),
                          ctx);
    }
    resp->set_available(true);
    return grpc::Status::OK;
  }
};

// Blocks every QueryAccountAvailability until released: calls that hold server threads.
class BlockingUserApi final : public v1::UserApiService::Service {
 public:
  grpc::Status QueryAccountAvailability(grpc::ServerContext*,
                                        const v1::QueryAccountAvailabilityRequest*,
                                        v1::QueryAccountAvailabilityResponse*) override {
    release_.WaitForNotification();
    return grpc::Status::OK;
  }
  void Release() { release_.Notify(); }

 private:
  absl::Notification release_;
};

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<prometheus::Registry>();
    absl::StatusOr<std::unique_ptr<GrpcServer>> server =
        GrpcServer::Start({.listen_address = "127.0.0.1:0",
                           .services = {&service_},
                           .health_service_names = {"periscope.userapi.v1.UserApiService"},
                           .registry = registry_.get()});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
  }

  std::string Scrape() { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

  FakeUserApi service_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<GrpcServer> server_;
};

TEST(GrpcServerQuotaTest, CallsPastTheThreadQuotaAreRefusedNotQueuedWithoutEnd) {
  BlockingUserApi service;
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = GrpcServer::Start(
      {.listen_address = "127.0.0.1:0", .services = {&service}, .max_threads = 4});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::UserApiService::NewStub((*server)->InProcessChannel());
  std::vector<std::future<grpc::StatusCode>> calls;
  for (int i = 0; i < 12; ++i) {
    calls.push_back(std::async(std::launch::async, [&] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      v1::QueryAccountAvailabilityResponse resp;
      return stub->QueryAccountAvailability(&ctx, v1::QueryAccountAvailabilityRequest(), &resp)
          .error_code();
    }));
  }
  // The refused calls come back at once, while the others still hold their threads.
  int refused = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (auto& call : calls) {
    if (call.wait_until(deadline) == std::future_status::ready &&
        call.get() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
    }
  }
  service.Release();
  EXPECT_GT(refused, 0);
  (*server)->Shutdown(absl::Seconds(1));
}

TEST_F(GrpcServerTest, ErrcodeCrossesTheWire) {
  auto stub = v1::UserApiService::NewStub(
      Dial("127.0.0.1:" + std::to_string(server_->port()), registry_.get()));
  grpc::ClientContext ctx;
  v1::QueryAccountAvailabilityRequest req;
  req.set_localpart("taken");
  v1::QueryAccountAvailabilityResponse resp;
  absl::Status s = FromGrpcStatus(stub->QueryAccountAvailability(&ctx, req, &resp), ctx);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(s.message(), "taken");
  EXPECT_EQ(MatrixErrcode(s), "M_USER_IN_USE");
}

TEST_F(GrpcServerTest, UnimplementedMethodSaysSo) {
  auto stub = v1::UserApiService::NewStub(server_->InProcessChannel());
  grpc::ClientContext ctx;
  v1::PerformLogoutResponse resp;
  grpc::Status s = stub->PerformLogout(&ctx, v1::PerformLogoutRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcServerTest, CallbackCallAndMetrics) {
  auto stub = v1::UserApiService::NewStub(server_->InProcessChannel());
  std::promise<absl::StatusOr<v1::QueryAccountAvailabilityResponse>> result;
  v1::QueryAccountAvailabilityRequest req;
  req.set_localpart("free");
  CallUnary<v1::QueryAccountAvailabilityRequest, v1::QueryAccountAvailabilityResponse>(
      [&](auto* ctx, auto* rq, auto* rs, auto done) {
        stub->async()->QueryAccountAvailability(ctx, rq, rs, std::move(done));
      },
      req, absl::Seconds(5), [&](auto r) { result.set_value(std::move(r)); });
  absl::StatusOr<v1::QueryAccountAvailabilityResponse> r = result.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->available());

  std::string scrape = Scrape();
  EXPECT_NE(scrape.find("grpc_server_handled_total{grpc_code=\"OK\",grpc_method="
                        "\"QueryAccountAvailability\",grpc_service=\"periscope.userapi.v1."
                        "UserApiService\",grpc_type=\"unary\"} 1"),
            std::string::npos)
      << scrape;
  EXPECT_NE(scrape.find("grpc_client_handled_total{grpc_code=\"OK\""), std::string::npos);
  EXPECT_NE(scrape.find("grpc_server_handling_seconds_bucket"), std::string::npos);
}

TEST_F(GrpcServerTest, CallToNowhereFailsFastWithUnavailable) {
  // Port 1 on loopback: nothing listens there.
  auto stub = v1::UserApiService::NewStub(Dial("127.0.0.1:1", nullptr));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::QueryAccountAvailabilityResponse resp;
  grpc::Status s = stub->QueryAccountAvailability(&ctx, {}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcServerTest, HealthReportsServingThenNotServing) {
  auto channel = server_->InProcessChannel();
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto check = [&](const std::string& name) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(name);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status s = health->Check(&ctx, req, &resp);
    return s.ok() ? static_cast<int>(resp.status()) : -static_cast<int>(s.error_code());
  };
  EXPECT_EQ(check(""), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(check("periscope.userapi.v1.UserApiService"),
            grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(check("nope"), -static_cast<int>(grpc::StatusCode::NOT_FOUND));
  server_->health().SetStatus("", grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(check(""), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
}

TEST_F(GrpcServerTest, ListenFailureIsAStatus) {
  absl::StatusOr<std::unique_ptr<GrpcServer>> second =
      GrpcServer::Start({.listen_address = "127.0.0.1:" + std::to_string(server_->port())});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace periscope::grpcutil
