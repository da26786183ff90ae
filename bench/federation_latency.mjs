// Federation delivery, two monoliths on loopback (A and B, TLS, federation.servers): bob on B
// joins alice's room on A and holds a waiting /sync; alice sends BENCH_MESSAGES messages at
// BENCH_RATE msg/s. For each, the time from the start of alice's PUT on A to bob's /sync answer
// on B carrying it: A's send, A's federationsender (queue, transaction, HTTPS), B's /send (X-Matrix
// and PDU signature checks, the roomserver's input), B's syncapi, the wake-up. Then B's inbound
// /send throughput: B is stopped while A queues BENCH_BURST messages, then started, and A's queue
// drains into it in transactions of up to 50 PDUs (each signature verified).
//
// Run with bench/run-http federation_latency.

import { startFederation } from "../tests/e2e/federation_harness.mjs";
import { nowMs, registerUser, summary, timedSends } from "./lib/bench_server.mjs";
import { call } from "../tests/e2e/http.mjs";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const BURST = Number(process.env.BENCH_BURST ?? 1000);
const v3 = "/_matrix/client/v3";
const quiet = { PERISCOPE_LOGGING__LEVEL: "warn", PERISCOPE_GATEWAY__MAX_CONNECTIONS_PER_ADDRESS: "0" };

const fed = await startFederation([
  { name: "a.periscope.test", mode: "monolith", env: quiet },
  { name: "b.periscope.test", mode: "monolith", env: quiet },
]);
try {
  const a = fed.servers["a.periscope.test"];
  const b = fed.servers["b.periscope.test"];
  const alice = await registerUser(a, "alice");
  const bob = await registerUser(b, "bob");
  const room = (await call(a, "POST", `${v3}/createRoom`, { token: alice.access_token, body: { preset: "public_chat" } })).json.room_id;
  const enc = encodeURIComponent(room);
  const joined = await call(b, "POST", `${v3}/join/${enc}?server_name=a.periscope.test`, { token: bob.access_token, body: {} });
  if (joined.status !== 200) throw new Error(`join: ${joined.text}`);

  const seen = new Map();  // body -> time bob's /sync carried it
  let done = false;
  // Bob's /sync loop on B; resolves when `done` is set and the last long-poll returns.
  const syncLoop = async () => {
    let since = (await call(b, "GET", `${v3}/sync?timeout=0`, { token: bob.access_token })).json.next_batch;
    while (!done) {
      const r = await call(b, "GET", `${v3}/sync?timeout=2000&since=${encodeURIComponent(since)}`, { token: bob.access_token });
      const at = nowMs();
      if (r.status !== 200) throw new Error(`sync: ${r.text}`);
      since = r.json.next_batch;
      for (const e of r.json.rooms?.join?.[room]?.timeline?.events ?? []) {
        if (e.type === "m.room.message" && !seen.has(e.content.body)) seen.set(e.content.body, at);
      }
    }
  };
  let loop = syncLoop();
  const send = (body) => call(a, "PUT", `${v3}/rooms/${enc}/send/m.room.message/${body}`, {
    token: alice.access_token, body: { msgtype: "m.text", body },
  });
  // Warm-up: keys fetched, connections open.
  await send("warmup");
  while (!seen.has("warmup")) await new Promise((r) => setTimeout(r, 20));

  const { latencies, missed } = await timedSends({ messages: MESSAGES, rate: RATE, send, seen });
  console.log(`send on A -> waiting /sync on B: ${MESSAGES} messages at ${RATE}/s: ${summary(latencies)}; missed ${missed}`);

  // B's inbound throughput: B is stopped while A queues the burst, then started; A drains its
  // queue in transactions of up to 50 PDUs as fast as B takes them. Measured from the first
  // burst message in B's /sync to the last.
  done = true;
  await loop;
  await b.stop();
  for (let i = 0; i < BURST; i++) {
    const r = await send(`b${i}`);
    if (r.status !== 200) throw new Error(`send: ${r.text}`);
  }
  await b.restart();
  done = false;
  loop = syncLoop();
  const burst = [...Array(BURST).keys()].map((i) => `b${i}`);
  const deadline = nowMs() + 180000;
  while (nowMs() < deadline && !burst.every((body) => seen.has(body))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const times = burst.filter((body) => seen.has(body)).map((body) => seen.get(body));
  const span = (Math.max(...times) - Math.min(...times)) / 1000;
  console.log(`inbound /send on B: ${times.length} of ${BURST} queued PDUs arrived in ${span.toFixed(2)} s from the first to the last: ${(times.length / span).toFixed(0)} PDUs/s (transactions of up to 50, every signature verified)`);
  done = true;
  await loop;
} finally {
  await fed.destroy();
}
