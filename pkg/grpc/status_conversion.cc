#include "pkg/grpc/status_conversion.h"

#include <string>

#include "pkg/status/matrix_status.h"

namespace periscope::grpcutil {

grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase* context) {
  if (status.ok()) return grpc::Status::OK;
  if (std::optional<std::string> errcode = MatrixErrcode(status); errcode && context != nullptr) {
    context->AddTrailingMetadata(kMatrixErrcodeKey, *errcode);
  }
  if (std::optional<std::string> fields = MatrixErrorFields(status); fields && context != nullptr) {
    context->AddTrailingMetadata(kMatrixErrorFieldsKey, *fields);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find(kMatrixErrcodeKey); it != trailers.end()) {
    out =
        WithMatrixErrcode(std::move(out), absl::string_view(it->second.data(), it->second.size()));
  }
  if (auto it = trailers.find(kMatrixErrorFieldsKey); it != trailers.end()) {
    out = WithMatrixErrorFields(std::move(out),
                                absl::string_view(it->second.data(), it->second.size()));
  }
  return out;
}

}  // namespace periscope::grpcutil
