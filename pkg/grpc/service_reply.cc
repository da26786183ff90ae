#include "pkg/grpc/service_reply.h"

#include "absl/strings/str_cat.h"
#include "pkg/grpc/status_conversion.h"
#include "pkg/logging/logging.h"

namespace periscope::grpcutil {

grpc::Status FinishCall(const absl::Status& status, grpc::ServerContextBase* ctx,
                        absl::string_view component, absl::string_view method) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
      logging::Error(absl::StrCat(component, ".failed"), {{"method", method}, {"error", status}});
      break;
    default:
      break;
  }
  return ToGrpcStatus(status, ctx);
}

}  // namespace periscope::grpcutil
