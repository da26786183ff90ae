#include "tests/testing/test_services.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pkg/crypto/random.h"

namespace periscope::testing {
namespace {

absl::Status ExecAdmin(const std::string& dsn, const std::string& sql) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string err = PQerrorMessage(conn);
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("connect ", dsn, ": ", err));
  }
  PGresult* res = PQexec(conn, sql.c_str());
  absl::Status status = absl::OkStatus();
  if (PQresultStatus(res) != PGRES_COMMAND_OK) {
    status = absl::InternalError(absl::StrCat(sql, ": ", PQresultErrorMessage(res)));
  }
  PQclear(res);
  PQfinish(conn);
  return status;
}

bool CanConnect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

// A random port in 20000-32767, below Linux's ephemeral range (32768-60999), that can be bound
// now: a kernel-chosen port could be taken by any parallel test's outgoing connection before the
// server we start binds it.
int FreePort() {
  static std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32767);
  for (int attempt = 0; attempt < 200; ++attempt) {
    int port = pick(rng);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (free) return port;
  }
  return 0;
}

absl::StatusOr<std::unique_ptr<TestDatabase>> TestDatabase::Create() {
  const char* dsn = getenv(kPostgresDsnEnv);
  if (dsn == nullptr || *dsn == '\0') {
    return absl::FailedPreconditionError(
        absl::StrCat(kPostgresDsnEnv, " is not set: run integration tests through scripts/test"));
  }
  crypto::InitSodium();
  auto db = std::unique_ptr<TestDatabase>(new TestDatabase());
  db->admin_dsn_ = dsn;
  db->name_ = "test_" + crypto::RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789");
  if (absl::Status s = ExecAdmin(db->admin_dsn_, "CREATE DATABASE " + db->name_); !s.ok()) {
    return s;
  }
  db->dsn_ = absl::StrCat(db->admin_dsn_, " dbname=", db->name_);
  return db;
}

TestDatabase::~TestDatabase() {
  if (!name_.empty()) {
    (void)ExecAdmin(admin_dsn_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
}

absl::StatusOr<std::unique_ptr<NatsServerProcess>> NatsServerProcess::Start() {
  auto server = std::unique_ptr<NatsServerProcess>(new NatsServerProcess());
  server->port_ = FreePort();
  char tmpl[] = "/tmp/periscope-nats-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp");
  server->store_dir_ = tmpl;
  if (absl::Status s = server->Spawn(); !s.ok()) return s;
  return server;
}

absl::Status NatsServerProcess::Spawn() {
  std::string port = std::to_string(port_);
  pid_ = fork();
  if (pid_ == 0) {
    // Die with the test (even if it crashes), and keep the test's output pipe free, or ctest
    // would wait for this process to close it.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::string log = store_dir_ + "/nats.log";
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port.c_str(), "-js", "-sd",
           store_dir_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0) return absl::InternalError("fork");
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (CanConnect(port_)) return absl::OkStatus();
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError("nats-server exited at start (is it installed?)");
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("nats-server did not start within 10s");
}

std::string NatsServerProcess::url() const { return absl::StrCat("nats://127.0.0.1:", port_); }

void NatsServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

absl::Status NatsServerProcess::Restart() {
  Stop();
  return Spawn();
}

NatsServerProcess::~NatsServerProcess() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(store_dir_, ec);
}

}  // namespace periscope::testing
