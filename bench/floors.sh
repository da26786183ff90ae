# Sourced by bench/run-http: measures, in the same run as the harnesses, what the machine's disk
# and services can do at best, so every figure can be read beside its floor (disks of one machine
# type differ 50x): pg_test_fsync's fdatasync rate on PostgreSQL's data directory, pgbench's rate
# of one-row committed transactions from one client and from 10, and JetStream's rate of
# acknowledged publishes (file storage), one at a time and 10 in flight. Needs PG_PORT, NATS_PORT, WORK and BUILD_DIR.

print_floors() {
  local fsync commits commits10 js
  fsync=$(as_pg_user "$PG_BIN/pg_test_fsync -s 2 -f '$WORK/postgres/pg/fsync_probe'" 2>/dev/null |
    awk '/fdatasync/ && /ops\/sec/ {print $(NF-3); exit}')
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc \
    "CREATE TABLE IF NOT EXISTS bench_floor (id BIGSERIAL PRIMARY KEY, v INT)" >/dev/null
  echo "INSERT INTO bench_floor (v) VALUES (1);" >"$WORK/floor.sql"
  commits=$(pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -c 1 -T 5 -f "$WORK/floor.sql" postgres 2>/dev/null |
    awk '/^tps/ {print $3; exit}')
  commits10=$(pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -c 10 -j 2 -T 5 -f "$WORK/floor.sql" postgres 2>/dev/null |
    awk '/^tps/ {print $3; exit}')
  js=$("$BUILD_DIR/bench/jetstream_publish_floor" "nats://127.0.0.1:$NATS_PORT" 2>/dev/null | tail -1)
  log "floors: fdatasync ${fsync:-?} ops/s (pg_test_fsync, PostgreSQL's disk); commits ${commits:-?}/s from one client, ${commits10:-?}/s from 10 (pgbench, one-row INSERT); JetStream ${js:-?}"
}
