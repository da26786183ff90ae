#pragma once
// Server access control lists (m.room.server_acl; client-server spec "Server Access Control
// Lists", server-server spec "Server ACLs"): whether a server may take part in a room. Applied
// to the authenticated origin of every room-scoped federation request.

#include <string>

#include "absl/strings/string_view.h"
#include "pkg/matrix/canonical_json.h"

namespace periscope::matrix {

// `acl_content` is the m.room.server_acl content, or null if the room has none (everyone is
// allowed). In order: no ACL → allowed; the name (port removed) is an IP literal and
// allow_ip_literals is false → denied; it matches a deny glob → denied; it matches an allow glob
// → allowed; else denied (a missing allow list denies everyone). Globs are case-insensitive,
// whole-name, with * and ?. Malformed entries (not strings, a non-list) are ignored.
bool ServerAllowedByAcl(const Json& acl_content, absl::string_view server_name);

// Case-insensitive glob match of the whole of `text` (* any run, ? one character).
bool GlobMatches(absl::string_view glob, absl::string_view text);

}  // namespace periscope::matrix
