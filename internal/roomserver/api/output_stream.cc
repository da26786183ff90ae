#include "internal/roomserver/api/output_stream.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/matrix/base64.h"

namespace periscope::roomserver {

stream::StreamSpec OutputStreamSpec(const config::Config& config) {
  // Both the stream name and its subjects carry the prefix, so that several deployments (or
  // test instances) can share one NATS without their subjects overlapping.
  return {.name = absl::StrCat(config.nats.stream_prefix, "_ROOMSERVER_OUTPUT"),
          .subjects = {absl::StrCat(absl::AsciiStrToLower(config.nats.stream_prefix),
                                    ".roomserver.output.>")},
          .max_age = config.nats.output_max_age,
          .max_bytes = config.nats.output_max_bytes,
          .replicas = config.nats.replicas};
}

std::string OutputSubjectPrefix(const config::Config& config) {
  return absl::StrCat(absl::AsciiStrToLower(config.nats.stream_prefix), ".roomserver.output");
}

std::string OutputSubjectSuffix(absl::string_view room_id) {
  std::string out(room_id);
  for (char& c : out) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '!' || c == ':' || c == '_' || c == '-' || c == '=';
    if (!safe) c = '_';
  }
  return out.empty() ? "_" : out;
}

std::string EncodeOutputPayload(const v1::OutputEvent& event) {
  return matrix::EncodeBase64(event.SerializeAsString());
}

absl::StatusOr<v1::OutputEvent> DecodeOutputPayload(absl::string_view payload) {
  absl::StatusOr<std::string> bytes = matrix::DecodeBase64(payload);
  if (!bytes.ok()) return bytes.status();
  v1::OutputEvent event;
  if (!event.ParseFromString(*bytes)) return absl::DataLossError("unparseable outbox payload");
  return event;
}

}  // namespace periscope::roomserver
