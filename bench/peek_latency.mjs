// Federated peeking (MSC2444), two monoliths on loopback (A and B, TLS, federation.servers): bob on
// B peeks alice's world-readable room on A (B's PUT /peek, A's snapshot, B takes it in) and holds a
// waiting /sync; alice sends BENCH_MESSAGES messages at BENCH_RATE msg/s. For each, the time from
// the start of alice's PUT on A to bob's /sync answer on B carrying it under rooms.peek: A's send,
// A's federationsender relaying to the peeking server (queue, transaction, HTTPS), B's /send (X-Matrix
// and PDU signature checks, the roomserver's input), B's syncapi, the wake-up. Also the time of the
// /peek itself (the federated round trip and the state taken in).
//
// Run with bench/run-http peek_latency.

import { startFederation } from "../tests/e2e/federation_harness.mjs";
import { nowMs, registerUser, summary, timedSends } from "./lib/bench_server.mjs";
import { call } from "../tests/e2e/http.mjs";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 10);
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
  const room = (await call(a, "POST", `${v3}/createRoom`, {
    token: alice.access_token,
    body: { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "world_readable" } }] },
  })).json.room_id;
  const enc = encodeURIComponent(room);
  const send = (body) => call(a, "PUT", `${v3}/rooms/${enc}/send/m.room.message/${body}`, {
    token: alice.access_token, body: { msgtype: "m.text", body },
  });
  await send("before");
  const peekStart = nowMs();
  const peeked = await call(b, "POST", `${v3}/peek/${enc}`, { token: bob.access_token, body: { servers: ["a.periscope.test"] } });
  if (peeked.status !== 200) throw new Error(`peek: ${peeked.text}`);
  console.log(`POST /peek on B of a room on A (PUT /peek, the snapshot checked and taken in): ${(nowMs() - peekStart).toFixed(1)} ms`);

  const seen = new Map();  // body -> time bob's /sync carried it
  let done = false;
  const syncLoop = async () => {
    let since = (await call(b, "GET", `${v3}/sync?timeout=0`, { token: bob.access_token })).json.next_batch;
    while (!done) {
      const r = await call(b, "GET", `${v3}/sync?timeout=2000&since=${encodeURIComponent(since)}`, { token: bob.access_token });
      const at = nowMs();
      if (r.status !== 200) throw new Error(`sync: ${r.text}`);
      since = r.json.next_batch;
      for (const e of r.json.rooms?.peek?.[room]?.timeline?.events ?? []) {
        if (e.type === "m.room.message" && !seen.has(e.content.body)) seen.set(e.content.body, at);
      }
    }
  };
  const loop = syncLoop();
  await send("warmup");
  while (!seen.has("warmup")) await new Promise((r) => setTimeout(r, 20));

  const { latencies, missed } = await timedSends({ messages: MESSAGES, rate: RATE, send, seen });
  console.log(`send on A -> B's peeking device (waiting /sync, rooms.peek): ${MESSAGES} messages at ${RATE}/s: ${summary(latencies)}; missed ${missed}`);
  done = true;
  await loop;
} finally {
  await fed.destroy();
}
