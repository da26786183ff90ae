#include "internal/roomserver/output/output_messages.h"

#include "periscope/roomserver/v1/output_event.pb.h"
#include "pkg/matrix/base64.h"

namespace periscope::roomserver {

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
