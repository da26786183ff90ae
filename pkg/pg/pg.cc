#include "pkg/pg/pg.h"

#include <libpq-fe.h>

#include <algorithm>
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

bool Connection::InTransaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }

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

namespace {

std::vector<std::optional<std::string>> ParamValues(const std::vector<Param>& params) {
  std::vector<std::optional<std::string>> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p.value());
  return values;
}

bool IsCommit(absl::string_view sql) {
  const std::string word = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(sql));
  return word == "COMMIT" || word == "END" || absl::StartsWith(word, "COMMIT ");
}

}  // namespace

void Connection::Defer(const Statement& statement, const std::vector<Param>& params) {
  deferred_.push_back(
      {std::string(statement.name), std::string(statement.sql), ParamValues(params), false});
}

void Connection::DeferExecute(absl::string_view sql) {
  deferred_.push_back({"", std::string(sql), {}, false});
}

absl::Status Connection::Flush() {
  if (deferred_.empty()) return absl::OkStatus();
  std::vector<Pending> items = std::move(deferred_);
  deferred_.clear();
  return RunPipeline(items).status();
}

absl::StatusOr<Result> Connection::SendDeferredWith(Pending last) {
  std::vector<Pending> items = std::move(deferred_);
  deferred_.clear();
  last.wanted = true;
  items.push_back(std::move(last));
  absl::StatusOr<std::vector<Result>> results = RunPipeline(items);
  if (!results.ok()) return results.status();
  return std::move(results->back());
}

absl::StatusOr<std::vector<Result>> Connection::QueryAll(const std::vector<Call>& calls) {
  std::vector<Pending> items = std::move(deferred_);
  deferred_.clear();
  for (const auto& [statement, params] : calls) {
    items.push_back(
        {std::string(statement.name), std::string(statement.sql), ParamValues(params), true});
  }
  if (items.empty()) return std::vector<Result>();
  return RunPipeline(items);
}

absl::StatusOr<std::vector<Result>> Connection::RunPipeline(const std::vector<Pending>& items) {
  // A transaction's first round trip (BEGIN and what follows it, without COMMIT) changed nothing
  // if its session was lost: the server rolls back the transaction of a client that is gone. So
  // it is sent once more on a fresh session, as a lone BEGIN on an idle connection that had died
  // always was. Anything after BEGIN may have committed before the answer was lost: never again.
  const bool first_of_transaction =
      items.front().name.empty() && absl::AsciiStrToUpper(items.front().sql) == "BEGIN" &&
      std::none_of(items.begin(), items.end(),
                   [](const Pending& p) { return p.name.empty() && IsCommit(p.sql); });
  absl::StatusOr<std::vector<Result>> result = RunPipelineOnce(items);
  if (!result.ok() && Healthy() && PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) {
    // The round trip did not end cleanly on a live connection (libpq out of memory, say): what is
    // left of it cannot be told from the next one's results, so the session is replaced. The
    // server rolls back whatever transaction it was in; the caller has its error.
    (void)Reset();
    return result;
  }
  if (result.ok() || Healthy() || !first_of_transaction) return result;
  if (absl::Status reset = Reset(); !reset.ok()) return result;
  return RunPipelineOnce(items);
}

absl::StatusOr<std::vector<Result>> Connection::RunPipelineOnce(const std::vector<Pending>& items) {
  ++round_trips_;
  if (PQenterPipelineMode(conn_) != 1) {
    return absl::UnavailableError(
        absl::StrCat("cannot enter pipeline mode: ", FirstLine(PQerrorMessage(conn_))));
  }
  // What the server answers, in order: a preparation (for a statement this connection has not
  // prepared yet) or a statement's result.
  struct Expected {
    const Pending* item;
    bool preparation;
  };
  std::vector<Expected> expected;
  std::set<std::string, std::less<>> preparing;
  bool sent = true;
  for (const Pending& p : items) {
    std::vector<const char*> values;
    values.reserve(p.params.size());
    for (const std::optional<std::string>& v : p.params) values.push_back(v ? v->c_str() : nullptr);
    const int n = static_cast<int>(values.size());
    if (!p.name.empty()) {
      if (!prepared_.contains(p.name) && !preparing.contains(p.name)) {
        if (PQsendPrepare(conn_, p.name.c_str(), p.sql.c_str(), 0, nullptr) != 1) {
          sent = false;
          break;
        }
        preparing.insert(p.name);
        expected.push_back({&p, true});
      }
      sent = PQsendQueryPrepared(conn_, p.name.c_str(), n, values.data(), nullptr, nullptr, 0) == 1;
    } else {
      sent = PQsendQueryParams(conn_, p.sql.c_str(), n, nullptr, values.data(), nullptr, nullptr,
                               0) == 1;
    }
    if (!sent) break;
    expected.push_back({&p, false});
  }
  absl::Status error;
  if (!sent) {
    error = absl::UnavailableError(
        absl::StrCat("cannot send to PostgreSQL: ", FirstLine(PQerrorMessage(conn_))));
    if (!Healthy()) return error;  // the connection is dropped; Reset() clears its pipeline
  }
  if (PQpipelineSync(conn_) != 1) {
    return absl::UnavailableError(
        absl::StrCat("cannot send to PostgreSQL: ", FirstLine(PQerrorMessage(conn_))));
  }
  std::vector<Result> results;
  for (const Expected& e : expected) {
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr) {
      // Only a lost connection ends the results early.
      return absl::UnavailableError(
          absl::StrCat("PostgreSQL connection lost: ", FirstLine(PQerrorMessage(conn_))));
    }
    const absl::string_view what = e.item->name.empty() ? "execute" : e.item->name;
    if (PQresultStatus(res) == PGRES_PIPELINE_ABORTED) {
      PQclear(res);  // not run: an earlier statement of this round trip failed
    } else {
      absl::StatusOr<Result> checked = Check(res, what);
      if (!checked.ok()) {
        if (error.ok()) error = checked.status();
      } else if (e.preparation) {
        prepared_.insert(e.item->name);
      } else if (e.item->wanted) {
        results.push_back(*std::move(checked));
      }
    }
    // Each statement's results end with a null.
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  PGresult* sync = PQgetResult(conn_);
  const bool synced = sync != nullptr && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
  if (sync != nullptr) PQclear(sync);
  if (!synced || PQexitPipelineMode(conn_) != 1) {
    if (error.ok()) {
      error = absl::UnavailableError(
          absl::StrCat("PostgreSQL pipeline did not end: ", FirstLine(PQerrorMessage(conn_))));
    }
    return error;
  }
  if (!error.ok()) return error;
  return results;
}

absl::StatusOr<Result> Connection::Query(const Statement& statement,
                                         const std::vector<Param>& params) {
  if (!deferred_.empty()) {
    return SendDeferredWith(
        {std::string(statement.name), std::string(statement.sql), ParamValues(params), true});
  }
  ++round_trips_;
  if (!prepared_.contains(statement.name)) {
    ++round_trips_;
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
  if (!deferred_.empty()) {
    return SendDeferredWith({"", std::string(sql), ParamValues(params), true});
  }
  ++round_trips_;
  ParamArrays arrays(params);
  std::string text(sql);
  return Check(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                            arrays.values.data(), nullptr, nullptr, 0),
               "query");
}

absl::Status Connection::Execute(absl::string_view sql) {
  // One statement goes with what is deferred (COMMIT carries a transaction's last writes); a
  // script of several (a migration) cannot be pipelined and goes after them.
  if (!deferred_.empty()) {
    if (!absl::StrContains(sql, ';')) {
      return SendDeferredWith({"", std::string(sql), {}, true}).status();
    }
    if (absl::Status flushed = Flush(); !flushed.ok()) return flushed;
  }
  ++round_trips_;
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
  // A user that left without finishing (a failed or throwing transaction): nothing it deferred is
  // sent by the next user, and its transaction does not stay open holding locks.
  conn->DiscardDeferred();
  if (conn->Healthy() && conn->InTransaction() && !conn->Execute("ROLLBACK").ok()) {
    (void)conn->Reset();
  }
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
  // Sent with the body's first statement; if the connection had died, that round trip is sent
  // again on a fresh one (see RunPipeline).
  conn.DeferExecute("BEGIN");
  absl::Status status = body(conn);
  if (status.ok()) {
    status = conn.Execute("COMMIT");
  }
  // On failure the lease's release drops what is still deferred and rolls the transaction back
  // (Pool::Release), as it does for a body that threw.
  return status;
}

bool IsConnectionError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

}  // namespace periscope::pg
