#include "pkg/pg/pg.h"

#include <libpq-fe.h>

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/logging/logging.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace periscope::pg {
namespace {

constexpr absl::string_view kUniqueViolation = "23505";

// SQLSTATE classes that mean the session is gone: 08 (connection exception), 57P01-57P03
// (admin shutdown, crash shutdown, cannot connect now).
bool IsConnectionSqlState(absl::string_view state) {
  return absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" || state == "57P03";
}

// A SELECT changes nothing, so running it again is harmless.
bool IsReadOnly(absl::string_view sql) {
  const std::string lower = absl::AsciiStrToLower(absl::StripLeadingAsciiWhitespace(sql));
  return absl::StartsWith(lower, "select ") && !absl::StrContains(lower, "nextval") &&
         !absl::StrContains(lower, " for update");
}

std::string FirstLine(absl::string_view text) {
  size_t nl = text.find('\n');
  return std::string(nl == absl::string_view::npos ? text : text.substr(0, nl));
}

struct ParamArrays {
  explicit ParamArrays(const std::vector<Param>& params) {
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p.value() ? p.value()->c_str() : nullptr);
  }
  std::vector<const char*> values;
};

}  // namespace

// ---- Result ----

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    if (res_ != nullptr) PQclear(res_);
    res_ = other.res_;
    other.res_ = nullptr;
  }
  return *this;
}

Result::~Result() {
  if (res_ != nullptr) PQclear(res_);
}

int Result::rows() const { return PQntuples(res_); }

int64_t Result::affected() const {
  int64_t n = 0;
  (void)absl::SimpleAtoi(PQcmdTuples(res_), &n);
  return n;
}

bool Result::IsNull(int row, int col) const { return PQgetisnull(res_, row, col) != 0; }

absl::string_view Result::Text(int row, int col) const {
  return absl::string_view(PQgetvalue(res_, row, col), PQgetlength(res_, row, col));
}

int64_t Result::Int(int row, int col) const {
  int64_t v = 0;
  (void)absl::SimpleAtoi(Text(row, col), &v);
  return v;
}

bool Result::Bool(int row, int col) const { return Text(row, col) == "t"; }

// ---- Connection ----

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& dsn) {
  return Open(dsn, absl::Seconds(5), absl::Seconds(30));
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& dsn,
                                                             absl::Duration connect_timeout,
                                                             absl::Duration statement_timeout) {
  // Key words are applied in order and the DSN ("dbname", expanded) comes last, so whatever it
  // sets overrides these defaults.
  const std::string connect =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(connect_timeout)));
  const std::string options =
      absl::StrCat("-c statement_timeout=", absl::ToInt64Milliseconds(statement_timeout));
  const char* keys[] = {"connect_timeout",  "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "options",    "dbname",          nullptr};
  const char* values[] = {connect.c_str(), "1",         "30",   "10", "3",
                          options.c_str(), dsn.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = FirstLine(PQerrorMessage(conn));
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", err));
  }
  // Server NOTICEs ("relation already exists, skipping") are not worth a log line each.
  PQsetNoticeProcessor(
      conn,
      [](void*, const char* message) {
        logging::Debug("db.notice", {{"message", message}});
      },
      nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

bool Connection::Ping() {
  PGresult* res = PQexec(conn_, "");
  const bool ok = res != nullptr && PQresultStatus(res) == PGRES_EMPTY_QUERY;
  if (res != nullptr) PQclear(res);
  return ok && Healthy();
}

absl::Status Connection::Reset() {
  prepared_.clear();
  PQreset(conn_);
  if (!Healthy()) {
    return absl::UnavailableError(
        absl::StrCat("cannot reconnect to PostgreSQL: ", FirstLine(PQerrorMessage(conn_))));
  }
  return absl::OkStatus();
}

absl::StatusOr<Result> Connection::Check(PGresult* res, absl::string_view what) {
  Result result(res);
  ExecStatusType st = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return result;
  const char* state_c = res == nullptr ? nullptr : PQresultErrorField(res, PG_DIAG_SQLSTATE);
  absl::string_view state = state_c == nullptr ? "" : state_c;
  std::string message =
      FirstLine(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
  if (message.empty()) message = FirstLine(PQerrorMessage(conn_));
  std::string text = absl::StrCat(what, ": ", message);
  if (state == kUniqueViolation) return absl::AlreadyExistsError(text);
  if (!Healthy() || IsConnectionSqlState(state)) return absl::UnavailableError(text);
  return absl::InternalError(text);
}

absl::StatusOr<Result> Connection::Query(const Statement& statement,
                                         const std::vector<Param>& params) {
  if (!prepared_.contains(statement.name)) {
    std::string name(statement.name);
    std::string sql(statement.sql);
    absl::StatusOr<Result> prepared =
        Check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), statement.name);
    if (!prepared.ok()) return prepared.status();
    prepared_.insert(name);
  }
  ParamArrays arrays(params);
  std::string name(statement.name);
  return Check(PQexecPrepared(conn_, name.c_str(), static_cast<int>(params.size()),
                              arrays.values.data(), nullptr, nullptr, 0),
               statement.name);
}

absl::StatusOr<Result> Connection::QueryOnce(absl::string_view sql,
                                             const std::vector<Param>& params) {
  ParamArrays arrays(params);
  std::string text(sql);
  return Check(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                            arrays.values.data(), nullptr, nullptr, 0),
               "query");
}

absl::Status Connection::Execute(absl::string_view sql) {
  std::string text(sql);
  return Check(PQexec(conn_, text.c_str()), "execute").status();
}

// ---- Pool ----

struct Pool::Metrics {
  Metrics(prometheus::Registry& r, const std::string& pool)
      : acquire(prometheus::BuildHistogram()
                    .Name("periscope_pg_pool_acquire_seconds")
                    .Help("Time waited for a pooled PostgreSQL connection.")
                    .Register(r)
                    .Add({{"pool", pool}},
                         prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                                 0.05, 0.1, 0.5, 1, 5})),
        query(prometheus::BuildHistogram()
                  .Name("periscope_pg_query_seconds")
                  .Help("PostgreSQL statement latency, as seen by the caller.")
                  .Register(r)
                  .Add({{"pool", pool}},
                       prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001,
                                                               0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1, 0.5, 1})),
        exhausted(prometheus::BuildCounter()
                      .Name("periscope_pg_pool_exhausted_total")
                      .Help("Acquisitions that timed out with every connection in use.")
                      .Register(r)
                      .Add({{"pool", pool}})),
        reconnects(prometheus::BuildCounter()
                       .Name("periscope_pg_reconnects_total")
                       .Help("Lost PostgreSQL connections re-established.")
                       .Register(r)
                       .Add({{"pool", pool}})),
        in_use(prometheus::BuildGauge()
                   .Name("periscope_pg_pool_connections_in_use")
                   .Help("Pooled connections currently leased.")
                   .Register(r)
                   .Add({{"pool", pool}})),
        max(prometheus::BuildGauge()
                .Name("periscope_pg_pool_connections_max")
                .Help("The pool's size limit.")
                .Register(r)
                .Add({{"pool", pool}})) {}
  prometheus::Histogram& acquire;
  prometheus::Histogram& query;
  prometheus::Counter& exhausted;
  prometheus::Counter& reconnects;
  prometheus::Gauge& in_use;
  prometheus::Gauge& max;
};

Pool::Pool(PoolOptions options) : options_(std::move(options)) {
  if (options_.registry != nullptr) {
    metrics_ = std::make_unique<Metrics>(*options_.registry, options_.name);
    metrics_->max.Set(options_.max_connections);
  }
}

Pool::~Pool() = default;

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  std::unique_ptr<Pool> pool(new Pool(std::move(options)));
  absl::StatusOr<std::unique_ptr<Connection>> first = Connection::Open(
      pool->options_.dsn, pool->options_.connect_timeout, pool->options_.statement_timeout);
  if (!first.ok()) return first.status();
  absl::MutexLock lock(&pool->mu_);
  pool->idle_.push_back({*std::move(first), absl::Now()});
  pool->open_ = 1;
  return pool;
}

absl::StatusOr<Lease> Pool::Acquire() {
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Connection> conn;
  bool open_new = false;
  bool validate = false;
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.max_connections;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available), options_.acquire_timeout)) {
      if (metrics_) metrics_->exhausted.Increment();
      return absl::UnavailableError(absl::StrCat(
          "no PostgreSQL connection free within ", absl::FormatDuration(options_.acquire_timeout),
          " (pool ", options_.name, ", size ", options_.max_connections, ")"));
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back().conn);
      validate = absl::Now() - idle_.back().since > options_.validate_after_idle;
      idle_.pop_back();
    } else {
      ++open_;
      open_new = true;
    }
  }
  if (open_new) {
    absl::StatusOr<std::unique_ptr<Connection>> opened =
        Connection::Open(options_.dsn, options_.connect_timeout, options_.statement_timeout);
    if (!opened.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;
      return opened.status();
    }
    conn = *std::move(opened);
  } else if (!conn->Healthy() || (validate && !conn->Ping())) {
    if (absl::Status s = conn->Reset(); !s.ok()) {
      absl::MutexLock lock(&mu_);
      --open_;  // drop it; the next Acquire opens a fresh one
      return s;
    }
    if (metrics_) metrics_->reconnects.Increment();
  }
  if (metrics_) {
    metrics_->acquire.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    metrics_->in_use.Increment();
  }
  return Lease(this, std::move(conn));
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  if (metrics_) metrics_->in_use.Decrement();
  absl::MutexLock lock(&mu_);
  idle_.push_back({std::move(conn), absl::Now()});
}

Lease::~Lease() {
  if (conn_ != nullptr) pool_->Release(std::move(conn_));
}

absl::StatusOr<Result> Pool::Query(const Statement& statement, const std::vector<Param>& params) {
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Result> result = absl::UnknownError("not run");
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<Lease> lease = Acquire();
    if (!lease.ok()) return lease.status();
    result = (*lease)->Query(statement, params);
    // Only a read may be run again after its session died: a write may have committed before
    // the answer was lost, and running it twice could apply it twice.
    if (result.ok() || (*lease)->Healthy() || !IsReadOnly(statement.sql)) break;
  }
  if (metrics_) {
    metrics_->query.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return result;
}

absl::Status Pool::Transaction(const std::function<absl::Status(Connection&)>& body) {
  absl::StatusOr<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  Connection& conn = **lease;
  if (absl::Status s = conn.Execute("BEGIN"); !s.ok()) {
    if (!conn.Healthy()) {
      // The idle connection had died; BEGIN changed nothing, so one retry is safe.
      if (absl::Status r = conn.Reset(); !r.ok()) return r;
      if (metrics_) metrics_->reconnects.Increment();
      if (s = conn.Execute("BEGIN"); !s.ok()) return s;
    } else {
      return s;
    }
  }
  absl::Status status = body(conn);
  if (status.ok()) {
    status = conn.Execute("COMMIT");
  }
  if (!status.ok() && conn.Healthy()) {
    (void)conn.Execute("ROLLBACK");
  }
  return status;
}

bool IsConnectionError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

}  // namespace periscope::pg
