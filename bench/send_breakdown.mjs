// Where a sequential send's time goes, by the server's own histograms: 1,000 sequential PUT /send
// (after 50 not counted), then the growth of every *_seconds histogram's sum divided by the sends:
// the gateway's gRPC call to the roomserver, the roomserver's handling of it, the relay's
// publishes, each consumer's handling of the message, the PostgreSQL statements made through the
// pool. Layers overlap (the call contains the handling); the consumers run beside the next send.
//
// Run with bench/run-http send_breakdown.

import { nowMs, request, senderInPrivateRoom, startBenchServer, summary } from "./lib/bench_server.mjs";

const SENDS = Number(process.env.BENCH_MESSAGES ?? 1000);

const server = await startBenchServer();
try {
  const { token, room } = await senderInPrivateRoom(server);
  const send = (id) => request(server, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/${id}`, {
    token, body: { msgtype: "m.text", body: id },
  });
  const scrape = async () => (await fetch(server.metricsUrls.monolith)).text();
  // Every histogram's _sum and _count, by name and labels.
  const sums = (text) => {
    const out = new Map();
    for (const line of text.split("\n")) {
      const m = line.match(/^(\S+?)_(sum|count)(\{[^}]*\})? ([0-9.e+-]+)$/);
      if (!m || !m[1].endsWith("_seconds")) continue;
      const key = m[1] + (m[3] ?? "");
      const entry = out.get(key) ?? { sum: 0, count: 0 };
      entry[m[2]] = Number(m[4]);
      out.set(key, entry);
    }
    return out;
  };
  for (let i = 0; i < 50; i++) await send(`w${i}`);
  const before = sums(await scrape());
  const latencies = [];
  for (let i = 0; i < SENDS; i++) {
    const start = nowMs();
    const r = await send(`s${i}`);
    latencies.push(nowMs() - start);
    if (r.status !== 200) throw new Error(`send: ${r.status} ${r.text}`);
  }
  await new Promise((r) => setTimeout(r, 500));  // the consumers finish the last ones
  const after = sums(await scrape());
  console.log(`send_breakdown: ${SENDS} sequential sends, from the client: ${summary(latencies)}`);
  const rows = [];
  for (const [key, a] of after) {
    const b = before.get(key) ?? { sum: 0, count: 0 };
    const ms = ((a.sum - b.sum) * 1000) / SENDS;
    if (ms >= 0.005 && !key.startsWith("exposer_")) rows.push([ms, (a.count - b.count) / SENDS, key]);
  }
  rows.sort((x, y) => y[0] - x[0]);
  for (const [ms, per, key] of rows) {
    console.log(`  ${ms.toFixed(3).padStart(7)} ms per send (${per.toFixed(1)} per send)  ${key}`);
  }
} finally {
  await server.destroy();
}
