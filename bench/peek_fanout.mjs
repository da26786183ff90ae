// Federated peeking (MSC2444), the peeked side at scale: BENCH_PEERS (100) simulated servers (the
// e2e fake server: TLS, X-Matrix, its own key and name on loopback) each PUT /peek into one
// world-readable room on a monolith A, and alice sends BENCH_MESSAGES messages at BENCH_RATE msg/s.
// A relays every event to every peeking server through its per-destination queues. Printed:
//   - the relay lag: from the start of alice's PUT /send on A to a peer's PUT /send carrying the
//     event (p50 over every peer and message), and to the last of the peers having it;
//   - A's CPU per event with the peers and, in a first phase with no peers, without them: the
//     difference over the peers is the relay cost per event per peeking server;
//   - the CPU of this node process (the 100 fake servers' TLS and JSON), which shares the machine.
//
// Run with bench/run-http peek_fanout.

import { startFederation } from "../tests/e2e/federation_harness.mjs";
import { cpuSeconds, nowMs, registerUser, summary } from "./lib/bench_server.mjs";
import { call, federationCall } from "../tests/e2e/http.mjs";

const PEERS = Number(process.env.BENCH_PEERS ?? 100);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const v3 = "/_matrix/client/v3";
const A = "a.periscope.test";
const VERSIONS = Array.from({ length: 12 }, (_, i) => `ver=${i + 1}`).join("&");
const quiet = {
  PERISCOPE_LOGGING__LEVEL: "warn", PERISCOPE_GATEWAY__MAX_CONNECTIONS_PER_ADDRESS: "0",
  PERISCOPE_PEEKING__MAX_INBOUND_PEEKS_PER_SERVER: "10", PERISCOPE_PEEKING__INBOUND_RATE_LIMIT_BURST: "1000",
};
const peerNames = Array.from({ length: PEERS }, (_, i) => `peer${i}.periscope.test`);

const fed = await startFederation([{ name: A, mode: "monolith", env: quiet }], { extraFakes: peerNames });
try {
  const a = fed.servers[A];
  const alice = await registerUser(a, "alice");
  const room = (await call(a, "POST", `${v3}/createRoom`, {
    token: alice.access_token,
    body: { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "world_readable" } }] },
  })).json.room_id;
  const enc = encodeURIComponent(room);
  let sequence = 0;
  const send = (body) => call(a, "PUT", `${v3}/rooms/${enc}/send/m.room.message/t${sequence++}`, {
    token: alice.access_token, body: { msgtype: "m.text", body },
  });

  // Each peer notes when each message body first reached it.
  const arrivals = new Map(peerNames.map((n) => [n, new Map()]));
  for (const name of peerNames) {
    const peer = fed.fakes[name];
    const seen = arrivals.get(name);
    peer.answerTransaction = (body) => {
      const at = nowMs();
      for (const pdu of body?.pdus ?? []) {
        const text = pdu.type === "m.room.message" ? pdu.content?.body : undefined;
        if (text !== undefined && !seen.has(text)) seen.set(text, at);
      }
      return { status: 200, body: { pdus: {} } };
    };
    peer.transactions = { push() {} };  // arrivals keep what the bench needs
  }

  // Sends `count` messages named `${prefix}${i}` at RATE, returning when each send started.
  const sendPaced = async (prefix, count) => {
    const sentAt = new Map();
    const begin = nowMs();
    for (let i = 0; i < count; i++) {
      const wait = begin + (i * 1000) / RATE - nowMs();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sentAt.set(`${prefix}${i}`, nowMs());
      const r = await send(`${prefix}${i}`);
      if (r.status !== 200) throw new Error(`send: ${r.text}`);
    }
    return sentAt;
  };
  const cpuPerEventUs = (before, after) => ({
    server: ((after.server - before.server) / MESSAGES) * 1e6,
    client: ((after.client - before.client) / MESSAGES) * 1e6,
  });

  // Phase 1: no peers, the same sends: what an event costs A without relaying it.
  await send("warmup");
  let before = cpuSeconds(a);
  await sendPaced("alone", MESSAGES);
  await new Promise((r) => setTimeout(r, 1000));
  const alone = cpuPerEventUs(before, cpuSeconds(a));

  // Phase 2: every peer peeks, then the same sends again.
  const peekStart = nowMs();
  await Promise.all(peerNames.map(async (name) => {
    const path = `/_matrix/federation/v1/peek/${enc}/p1?${VERSIONS}`;
    const r = await federationCall(a, "PUT", path, {
      body: {}, headers: { authorization: fed.fakes[name].authorization("PUT", path, A, {}) },
    });
    if (r.status !== 200) throw new Error(`peek by ${name}: ${r.status} ${r.text}`);
  }));
  console.log(`${PEERS} servers PUT /peek at once: all answered in ${(nowMs() - peekStart).toFixed(0)} ms`);
  await send("warmup2");
  const warmDeadline = Date.now() + 30000;
  while (![...arrivals.values()].every((m) => m.has("warmup2"))) {
    if (Date.now() > warmDeadline) throw new Error("the peers never all received the warm-up event");
    await new Promise((r) => setTimeout(r, 20));
  }
  before = cpuSeconds(a);
  const sentAt = await sendPaced("m", MESSAGES);
  const drainDeadline = Date.now() + 60000;
  while (![...arrivals.values()].every((m) => m.has(`m${MESSAGES - 1}`)) && Date.now() < drainDeadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const peeked = cpuPerEventUs(before, cpuSeconds(a));

  const perPeer = [];
  const toLast = [];
  let missed = 0;
  for (const [body, at] of sentAt) {
    let last = 0;
    for (const seen of arrivals.values()) {
      if (!seen.has(body)) { missed++; continue; }
      perPeer.push(seen.get(body) - at);
      last = Math.max(last, seen.get(body) - at);
    }
    toLast.push(last);
  }
  if (perPeer.length === 0) throw new Error("no peer received any message");
  console.log(`send on A -> a peeking server's /send (${PEERS} peers, ${MESSAGES} messages at ${RATE}/s): ${summary(perPeer)}; missed ${missed} of ${MESSAGES * PEERS}`);
  console.log(`send on A -> the last of ${PEERS} peers: ${summary(toLast)}`);
  const f = (v) => v.toFixed(0);
  console.log(`A's CPU per event: ${f(alone.server)} us with no peers, ${f(peeked.server)} us with ${PEERS}: ` +
    `${((peeked.server - alone.server) / PEERS).toFixed(1)} us per event per peeking server ` +
    `(this process, the fake peers and the sender: ${f(peeked.client)} us per event)`);
} finally {
  await fed.destroy();
}
