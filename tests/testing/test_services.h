#pragma once
// Real PostgreSQL and NATS for integration tests.
//
// PostgreSQL: scripts/test starts one private server and exports TEST_POSTGRES_DSN; each test gets
// a fresh database in it (TestDatabase), dropped afterwards.
// NATS: each test that needs one starts its own nats-server with JetStream on a free loopback
// port (NatsServerProcess), so that it can stop and restart it at will.

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace periscope::testing {

// A free TCP port on 127.0.0.1 (bound then released; good enough for tests).
int FreePort();

// Environment variable with a libpq DSN of a server where databases may be created.
inline constexpr char kPostgresDsnEnv[] = "TEST_POSTGRES_DSN";

class TestDatabase {
 public:
  // Creates a database with a unique name. Fails if TEST_POSTGRES_DSN is unset.
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create();
  ~TestDatabase();
  // A DSN for the new database.
  const std::string& dsn() const { return dsn_; }

 private:
  std::string admin_dsn_;
  std::string name_;
  std::string dsn_;
};

class NatsServerProcess {
 public:
  // Starts nats-server -js on a free port with a fresh store directory; waits until it accepts
  // connections.
  static absl::StatusOr<std::unique_ptr<NatsServerProcess>> Start();
  ~NatsServerProcess();

  std::string url() const;
  // SIGTERM and wait.
  void Stop();
  // Starts again on the same port and store (a restart keeps the streams).
  absl::Status Restart();

 private:
  absl::Status Spawn();
  int port_ = 0;
  std::string store_dir_;
  pid_t pid_ = -1;
};

}  // namespace periscope::testing
