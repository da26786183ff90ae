#include "pkg/pg/migrations.h"

#include "absl/strings/str_cat.h"
#include "pkg/logging/logging.h"

namespace periscope::pg {
namespace {

// An arbitrary constant shared by every Periscope process: the advisory lock key.
constexpr absl::string_view kLockSql = "SELECT pg_advisory_xact_lock(7204617001)";

constexpr absl::string_view kCreateTableSql = R"sql(
CREATE TABLE IF NOT EXISTS periscope_schema_versions (
  component TEXT NOT NULL,
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
))sql";

constexpr absl::string_view kCurrentSql =
    "SELECT COALESCE(MAX(version), 0) FROM periscope_schema_versions WHERE component = $1";

constexpr absl::string_view kRecordSql =
    "INSERT INTO periscope_schema_versions (component, version, description) VALUES ($1, $2, $3)";

}  // namespace

absl::Status ApplyMigrations(Pool& pool, absl::string_view component,
                             const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i + 1)) {
      return absl::InternalError(absl::StrCat(component, ": migration ", i + 1, " is numbered ",
                                              migrations[i].version, "; expected 1..N in order"));
    }
  }
  return pool.Transaction([&](Connection& conn) -> absl::Status {
    if (absl::Status s = conn.Execute(kLockSql); !s.ok()) return s;
    // A migration (an index on a large table) may take longer than the statement timeout every
    // connection has; it must not fail the start-up over and over.
    if (absl::Status s = conn.Execute("SET LOCAL statement_timeout = 0"); !s.ok()) return s;
    if (absl::Status s = conn.Execute(kCreateTableSql); !s.ok()) return s;
    absl::StatusOr<Result> current = conn.QueryOnce(kCurrentSql, {component});
    if (!current.ok()) return current.status();
    int version = static_cast<int>(current->Int(0, 0));
    if (version > static_cast<int>(migrations.size())) {
      return absl::FailedPreconditionError(absl::StrCat(
          component, ": the database schema is at version ", version, " but this binary knows ",
          migrations.size(), "; refusing to run an older binary against a newer schema"));
    }
    for (const Migration& m : migrations) {
      if (m.version <= version) continue;
      if (absl::Status s = conn.Execute(m.sql); !s.ok()) {
        return absl::InternalError(absl::StrCat(component, " migration ", m.version, " (",
                                                m.description, "): ", s.message()));
      }
      absl::StatusOr<Result> recorded =
          conn.QueryOnce(kRecordSql, {component, m.version, m.description});
      if (!recorded.ok()) return recorded.status();
      logging::Info(
          "db.migrated",
          {{"component", component}, {"version", m.version}, {"description", m.description}});
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> SchemaVersion(Pool& pool, absl::string_view component) {
  absl::StatusOr<Lease> lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<Result> exists =
      (*lease)->QueryOnce("SELECT to_regclass('periscope_schema_versions') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (!exists->Bool(0, 0)) return 0;
  absl::StatusOr<Result> current = (*lease)->QueryOnce(kCurrentSql, {component});
  if (!current.ok()) return current.status();
  return static_cast<int>(current->Int(0, 0));
}

}  // namespace periscope::pg
