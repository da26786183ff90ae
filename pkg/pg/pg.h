#pragma once
// PostgreSQL through libpq: results, connections with per-connection prepared statements, a pool
// that re-establishes lost connections, and transactions.
//
//   constexpr pg::Statement kInsertDevice{"userapi_insert_device", "INSERT INTO ... ($1, $2)"};
//   absl::StatusOr<pg::Result> r = pool.Query(kInsertDevice, {localpart, device_id});
//
// Error mapping: unique violation -> ALREADY_EXISTS; connection trouble or pool exhaustion ->
// UNAVAILABLE; anything else -> INTERNAL (with the server's message, for logs).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct pg_conn;
struct pg_result;

namespace prometheus {
class Registry;
}

namespace periscope::pg {

// A named SQL statement, prepared once per connection on first use.
struct Statement {
  absl::string_view name;
  absl::string_view sql;
};

// A query parameter in text form; nullopt is SQL NULL.
class Param {
 public:
  Param(std::nullptr_t) {}
  Param(absl::string_view v) : value_(std::string(v)) {}
  Param(const char* v) : value_(std::string(v)) {}
  Param(const std::string& v) : value_(v) {}
  Param(bool v) : value_(v ? "true" : "false") {}
  Param(int v) : value_(std::to_string(v)) {}
  Param(int64_t v) : value_(std::to_string(v)) {}
  Param(std::optional<std::string> v) : value_(std::move(v)) {}
  const std::optional<std::string>& value() const { return value_; }

 private:
  std::optional<std::string> value_;
};

// The rows of a finished query. Move-only.
class Result {
 public:
  explicit Result(pg_result* res) : res_(res) {}
  Result(Result&& other) noexcept : res_(other.res_) { other.res_ = nullptr; }
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  ~Result();

  int rows() const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t affected() const;
  bool IsNull(int row, int col) const;
  absl::string_view Text(int row, int col) const;
  int64_t Int(int row, int col) const;
  bool Bool(int row, int col) const;

 private:
  pg_result* res_;
};

// A statement with its parameters (several in one round trip: Connection::QueryAll).
struct Call {
  Statement statement;
  std::vector<Param> params;
};

// One connection. Not thread-safe: use through a Pool lease.
class Connection {
 public:
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& dsn);
  // Opens with Periscope's defaults (connect and statement timeouts, TCP keepalives) beneath the
  // DSN's own settings.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& dsn,
                                                          absl::Duration connect_timeout,
                                                          absl::Duration statement_timeout);
  ~Connection();

  // Runs a prepared statement (preparing it on this connection first if needed).
  absl::StatusOr<Result> Query(const Statement& statement, const std::vector<Param>& params = {});
  // Runs SQL with parameters, unprepared (one-off statements).
  absl::StatusOr<Result> QueryOnce(absl::string_view sql, const std::vector<Param>& params = {});
  // Runs one or more statements without parameters (migrations, BEGIN/COMMIT).
  absl::Status Execute(absl::string_view sql);

  // Deferred statements: a statement whose answer the caller does not need at once (an INSERT
  // whose rows are not read back, BEGIN, SAVEPOINT, SET LOCAL) waits here and goes to the server
  // with the next call that needs an answer (Query, QueryOnce, Execute of one statement, Flush),
  // all in one round trip (libpq's pipeline mode). A send costs a dozen statements but needs few
  // answers, and each round trip is two thread wake-ups on a loaded machine.
  //
  // Errors: the first failure among what is sent together is that call's error, and nothing
  // after it in the round trip runs (inside a transaction, the transaction is then aborted). So
  // a caller that must tell one statement's failure apart (a unique violation it answers in its
  // own way) runs it with Query, not Defer.
  void Defer(const Statement& statement, const std::vector<Param>& params = {});
  // One statement of SQL without parameters.
  void DeferExecute(absl::string_view sql);
  // Sends what is deferred, if anything; the first error.
  absl::Status Flush();
  // Several statements (and what is deferred) in one round trip; their results in order, or the
  // first error.
  absl::StatusOr<std::vector<Result>> QueryAll(const std::vector<Call>& calls);
  // Forgets what is deferred, unsent (before a ROLLBACK: it would be undone anyway).
  void DiscardDeferred() { deferred_.clear(); }
  size_t deferred() const { return deferred_.size(); }
  // Round trips to the server so far (for tests and benchmarks).
  int64_t round_trips() const { return round_trips_; }

  // False once the server connection is lost.
  bool Healthy() const;
  // Inside a transaction block (begun, possibly failed), as of the last round trip.
  bool InTransaction() const;
  // One round trip (an empty query): false if the session is gone.
  bool Ping();
  // Reconnects (forgetting prepared statements).
  absl::Status Reset();

 private:
  // A statement waiting to be sent: prepared (name and SQL) or plain SQL (empty name).
  struct Pending {
    std::string name;
    std::string sql;
    std::vector<std::optional<std::string>> params;
    bool wanted = false;  // its result is returned
  };

  explicit Connection(pg_conn* conn) : conn_(conn) {}
  absl::StatusOr<Result> Check(pg_result* res, absl::string_view what);
  // Sends what is deferred and then `last`, in one round trip; `last`'s result.
  absl::StatusOr<Result> SendDeferredWith(Pending last);
  absl::StatusOr<std::vector<Result>> RunPipeline(const std::vector<Pending>& items);
  absl::StatusOr<std::vector<Result>> RunPipelineOnce(const std::vector<Pending>& items);

  pg_conn* conn_;
  std::set<std::string, std::less<>> prepared_;
  std::vector<Pending> deferred_;
  int64_t round_trips_ = 0;
};

class Pool;

// Exclusive use of one pooled connection; returned to the pool when destroyed.
class Lease {
 public:
  Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
  Lease(Lease&&) = default;
  ~Lease();
  Connection* operator->() { return conn_.get(); }
  Connection& operator*() { return *conn_; }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> conn_;
};

struct PoolOptions {
  std::string dsn;
  int max_connections = 8;
  absl::Duration acquire_timeout = absl::Seconds(5);
  // Defaults for every connection; a DSN that sets connect_timeout or options itself wins. TCP
  // keepalives are always on, so a server that vanished is noticed on an idle connection.
  absl::Duration connect_timeout = absl::Seconds(5);
  absl::Duration statement_timeout = absl::Seconds(30);
  // A connection idle for longer than this is checked (an empty query, one round trip) before it
  // is handed out, so that a session the server ended meanwhile is replaced before a write is
  // sent on it, rather than failing the write (which is never retried: see Query).
  absl::Duration validate_after_idle = absl::Seconds(1);
  // Labels this pool's metrics (e.g. "userapi"; "monolith" for a shared pool).
  std::string name = "default";
  prometheus::Registry* registry = nullptr;
};

class Pool {
 public:
  // Opens one connection at once (so a wrong DSN fails at start) and the rest on demand.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(PoolOptions options);
  ~Pool();

  // Waits up to acquire_timeout for a connection; a lost connection is re-established here.
  absl::StatusOr<Lease> Acquire();

  // Acquire + Query. A read-only statement (SELECT) whose connection was lost is retried once on a
  // fresh one; any other is not, since it may have committed before the answer was lost (the
  // caller gets UNAVAILABLE and must treat the outcome as unknown).
  absl::StatusOr<Result> Query(const Statement& statement, const std::vector<Param>& params = {});

  // Runs `body` inside BEGIN ... COMMIT on one connection; any error (or a failed COMMIT) rolls
  // back and is returned. `body` must not keep the connection. BEGIN is deferred (it goes with
  // the body's first statement that needs an answer) and COMMIT carries what the body deferred.
  absl::Status Transaction(const std::function<absl::Status(Connection&)>& body);

 private:
  friend class Lease;
  struct Metrics;
  explicit Pool(PoolOptions options);
  void Release(std::unique_ptr<Connection> conn);

  PoolOptions options_;
  std::unique_ptr<Metrics> metrics_;
  absl::Mutex mu_;
  struct Idle {
    std::unique_ptr<Connection> conn;
    absl::Time since;
  };
  std::vector<Idle> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// True for statuses that mean "the database could not be reached" (worth a retry).
bool IsConnectionError(const absl::Status& status);

}  // namespace periscope::pg
