#pragma once
// The roomserver output stream as producer and consumers share it: its name and subjects, and
// how a message is framed (the serialized OutputEvent, base64, since the outbox column is text).
// A small library of its own so that consumers (syncapi, federationsender) need nothing else of
// the roomserver.
//
// The contract: every message of a room reaches the stream at least once, in the room's order;
// each carries OutputEvent.room_sequence (1, 2, 3, ... per room). A consumer applies a room's
// messages in that order and ignores one whose sequence it has already applied, which makes
// at-least-once delivery exactly-once in effect. Consumers never nak past a message: they retry
// it in place, so a later message of the room cannot overtake it.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pkg/config/config.h"
#include "pkg/stream/jetstream.h"

namespace periscope::roomserver::v1 {
class OutputEvent;
}

namespace periscope::roomserver {

// The output stream every consumer (syncapi, federationsender) reads.
stream::StreamSpec OutputStreamSpec(const config::Config& config);
// "<prefix>.roomserver.output": each message's subject is this plus "." and the room.
std::string OutputSubjectPrefix(const config::Config& config);

// "roomserver.output." is prefixed by the publisher; this is the part after it: the room id with
// characters NATS subjects cannot carry (space, '*', '>', control bytes, ...) replaced by '_'.
std::string OutputSubjectSuffix(absl::string_view room_id);

std::string EncodeOutputPayload(const v1::OutputEvent& event);
absl::StatusOr<v1::OutputEvent> DecodeOutputPayload(absl::string_view payload);

}  // namespace periscope::roomserver
