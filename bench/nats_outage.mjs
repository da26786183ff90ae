// A NATS outage during a send run. One user sends sequentially for BENCH_SECONDS (default 50);
// from second 10 NATS is frozen (SIGSTOP: its connections stay open and nothing answers, the
// worst case for timeouts) for BENCH_OUTAGE_SECONDS (default 30), then resumed. A second client
// long-polls /sync throughout. Prints the send rate and latency before, during and after the
// outage, then how long after NATS resumed every message reached /sync, and how many were missed
// or doubled (the outbox relay must deliver each committed message once, in order).
//
// Run with bench/run-http nats_outage (it starts PostgreSQL, NATS and the monolith).

import { execFileSync } from "node:child_process";
import { nowMs, request, senderInPrivateRoom, startBenchServer, summary } from "./lib/bench_server.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 50);
const OUTAGE_AT = 10;
const OUTAGE = Number(process.env.BENCH_OUTAGE_SECONDS ?? 30);

const natsPort = new URL(process.env.TEST_NATS_URL).port;
const natsPid = Number(
  execFileSync("pgrep", ["-f", `nats-server .*-p ${natsPort}`]).toString().trim().split("\n")[0]);

const server = await startBenchServer();
let frozen = false;
try {
  const { token, roomId, room } = await senderInPrivateRoom(server);

  // The receiver: every message body /sync delivers, in order.
  const received = [];
  let since = (await request(server, "GET", "/_matrix/client/v3/sync?timeout=0", { token })).json.next_batch;
  let receiving = true;
  const receiver = (async () => {
    while (receiving) {
      const r = await request(server, "GET", `/_matrix/client/v3/sync?since=${encodeURIComponent(since)}&timeout=1000`, { token });
      if (r.status !== 200) continue;
      since = r.json.next_batch;
      for (const e of r.json.rooms?.join?.[roomId]?.timeline?.events ?? []) {
        if (e.type === "m.room.message") received.push(e.content.body);
      }
    }
  })();

  const phases = { before: [], during: [], after: [] };
  const phaseSeconds = { before: OUTAGE_AT, during: OUTAGE, after: SECONDS - OUTAGE_AT - OUTAGE };
  const start = nowMs();
  let resumedAt = 0;
  let n = 0;
  const sent = [];
  while (nowMs() - start < SECONDS * 1000) {
    const t = (nowMs() - start) / 1000;
    if (!frozen && !resumedAt && t >= OUTAGE_AT) { process.kill(natsPid, "SIGSTOP"); frozen = true; }
    if (frozen && t >= OUTAGE_AT + OUTAGE) { process.kill(natsPid, "SIGCONT"); frozen = false; resumedAt = nowMs(); }
    const phase = frozen ? "during" : resumedAt ? "after" : "before";
    const body = `m${n++}`;
    const s = nowMs();
    const r = await request(server, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/${body}`, {
      token, body: { msgtype: "m.text", body },
    });
    phases[phase].push(nowMs() - s);
    if (r.status !== 200) throw new Error(`send ${body}: ${r.status} ${r.text}`);
    sent.push(body);
  }
  if (frozen) { process.kill(natsPid, "SIGCONT"); frozen = false; resumedAt = nowMs(); }
  const deadline = nowMs() + 180_000;
  while (received.length < sent.length && nowMs() < deadline) await new Promise((r) => setTimeout(r, 50));
  const drained = nowMs() - resumedAt;
  await new Promise((r) => setTimeout(r, 1000));  // anything doubled arrives too
  receiving = false;
  await receiver;

  const counts = new Map();
  for (const b of received) counts.set(b, (counts.get(b) ?? 0) + 1);
  const missed = sent.filter((b) => !counts.has(b)).length;
  const doubled = [...counts.values()].filter((c) => c > 1).length;
  const inOrder = received.every((b, i) => i === 0 || Number(b.slice(1)) > Number(received[i - 1].slice(1)));
  console.log(`nats_outage: ${sent.length} sequential sends over ${SECONDS} s, NATS frozen from ${OUTAGE_AT} s for ${OUTAGE} s`);
  for (const [phase, lat] of Object.entries(phases)) {
    if (lat.length === 0) continue;
    console.log(`  ${phase.padEnd(6)} the outage: ${(lat.length / phaseSeconds[phase]).toFixed(0)} msg/s; ${summary(lat)}`);
  }
  console.log(`  every message in /sync ${(drained / 1000).toFixed(1)} s after NATS resumed; missed ${missed}, doubled ${doubled}, in order: ${inOrder}`);
} finally {
  if (frozen) process.kill(natsPid, "SIGCONT");
  await server.destroy();
}
