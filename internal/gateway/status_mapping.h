#pragma once
// The one table that turns a component's status into a Matrix HTTP error.
//
// A status carries a canonical code and, optionally, a Matrix errcode (pkg/status). The errcode
// is sent as is; the HTTP status comes from the code (with the few errcodes whose HTTP status the
// spec fixes). Server-side failures never leak their internal message to the client.

#include "absl/status/status.h"
#include "internal/gateway/http/http_message.h"

namespace periscope::gateway {

struct HttpError {
  int status;
  std::string errcode;
  std::string message;
};

HttpError MapStatus(const absl::Status& status);

// The JSON error response for `status`.
HttpResponse StatusResponse(const absl::Status& status);

}  // namespace periscope::gateway
