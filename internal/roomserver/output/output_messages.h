#pragma once
// How output-stream messages are framed in the outbox: the serialized OutputEvent, base64 (the
// outbox column is text), and the subject suffix for a room.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace periscope::roomserver::v1 {
class OutputEvent;
}

namespace periscope::roomserver {

// "roomserver.output." is prefixed by the publisher; this is the part after it: the room id with
// characters NATS subjects cannot carry (space, '*', '>', control bytes, ...) replaced by '_'.
std::string OutputSubjectSuffix(absl::string_view room_id);

std::string EncodeOutputPayload(const v1::OutputEvent& event);
absl::StatusOr<v1::OutputEvent> DecodeOutputPayload(absl::string_view payload);

}  // namespace periscope::roomserver
