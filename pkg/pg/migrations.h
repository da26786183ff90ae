#pragma once
// Numbered schema migrations per component, recorded in periscope_schema_versions.
//
// Each component lists its migrations in order (versions 1, 2, 3, ...). At start the process
// applies the ones not yet recorded, all in one transaction under an advisory lock, so that
// several processes starting at once (a mesh on one database) apply each migration exactly once.

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "pkg/pg/pg.h"

namespace periscope::pg {

struct Migration {
  int version;
  absl::string_view description;
  absl::string_view sql;
};

// Applies `migrations` of `component` that are newer than the recorded version. Fails without
// changing anything if the list is not numbered 1..N, or if the database is at a version newer
// than this binary knows (a downgrade).
absl::Status ApplyMigrations(Pool& pool, absl::string_view component,
                             const std::vector<Migration>& migrations);

// The recorded schema version of `component` (0 if none).
absl::StatusOr<int> SchemaVersion(Pool& pool, absl::string_view component);

}  // namespace periscope::pg
