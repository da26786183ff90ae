// Send throughput, by the method of the public matrix-server-performance harness: register, log
// in, create a private_chat room, then 500 sequential PUT /send, then 500 across 10 concurrent
// workers. Prints messages per second and p50/p95/p99 latency of each phase.
//
// Run with bench/run-http send_throughput (it starts PostgreSQL, NATS and the monolith).

import { nowMs, request, senderInPrivateRoom, startBenchServer, summary } from "./lib/bench_server.mjs";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 500);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 10);

const server = await startBenchServer();
try {
  const { token, room } = await senderInPrivateRoom(server);

  let txn = 0;
  const sendOne = async (latencies) => {
    const id = `t${txn++}`;
    const start = nowMs();
    const r = await request(server, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/${id}`, {
      token, body: { msgtype: "m.text", body: `message ${id}` },
    });
    latencies.push(nowMs() - start);
    if (r.status !== 200) throw new Error(`send ${id}: ${r.status} ${r.text}`);
  };

  // A short warm-up (connections, prepared statements, JIT) that is not counted.
  for (let i = 0; i < 20; i++) await sendOne([]);

  const sequential = [];
  let start = nowMs();
  for (let i = 0; i < MESSAGES; i++) await sendOne(sequential);
  const sequentialRate = MESSAGES / ((nowMs() - start) / 1000);

  const concurrent = [];
  start = nowMs();
  let next = 0;
  await Promise.all(Array.from({ length: WORKERS }, async () => {
    while (next < MESSAGES) { next++; await sendOne(concurrent); }
  }));
  const concurrentRate = MESSAGES / ((nowMs() - start) / 1000);

  console.log(`send_throughput: ${MESSAGES} messages, monolith, synchronous_commit=${process.env.BENCH_SYNCHRONOUS_COMMIT ?? "on"}, JetStream file storage`);
  console.log(`  sequential:          ${sequentialRate.toFixed(0)} msg/s; ${summary(sequential)}`);
  console.log(`  ${WORKERS} concurrent workers: ${concurrentRate.toFixed(0)} msg/s; ${summary(concurrent)}`);
} finally {
  await server.destroy();
}
