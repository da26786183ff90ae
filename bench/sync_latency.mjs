// Send -> /sync delivery latency: 100 users joined to one room each hold a waiting /sync
// long-poll; one sender sends 100 messages at 10 msg/s. For every (message, receiver) pair the
// harness records the time from the start of the sender's PUT (and, separately, from its 200
// answer, i.e. after the commit) to the receiver's /sync response carrying the message. Prints
// p50/p95/p99 and any message a receiver never got (a missed wake-up).
//
// Run with bench/run-http sync_latency. BENCH_RECEIVERS, BENCH_MESSAGES, BENCH_RATE override.
// BENCH_MODE=peek makes the receivers peek into the (world_readable) room instead of joining it:
// the issue 5 benchmark is BENCH_MODE=peek BENCH_RECEIVERS=1000 BENCH_RATE=20.

import { cpuSeconds, nowMs, registerUser, request, startBenchServer, summary } from "./lib/bench_server.mjs";

const RECEIVERS = Number(process.env.BENCH_RECEIVERS ?? 100);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const PEEK = process.env.BENCH_MODE === "peek";
const FILTER = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 50 }, state: { lazy_load_members: true } } }));

const server = await startBenchServer();
try {
  const sender = await registerUser(server, "sender");
  const created = await request(server, "POST", "/_matrix/client/v3/createRoom", {
    token: sender.access_token,
    body: { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "world_readable" } }] },
  });
  const roomId = created.json.room_id;
  const room = encodeURIComponent(roomId);

  const receivers = [];
  for (let i = 0; i < RECEIVERS; i++) {
    const account = await registerUser(server, `receiver${i}`);
    const entered = PEEK
      ? await request(server, "POST", `/_matrix/client/v3/peek/${room}`, { token: account.access_token, body: {} })
      : await request(server, "POST", `/_matrix/client/v3/rooms/${room}/join`, { token: account.access_token, body: {} });
    if (entered.status !== 200) throw new Error(`${PEEK ? "peek" : "join"}: ${entered.text}`);
    receivers.push({ token: account.access_token, seen: new Map() });
  }

  const sentAt = new Map();    // body -> time the PUT started
  const answeredAt = new Map(); // body -> time the PUT returned
  let done = false;
  let parked = 0;

  // Each receiver: an initial sync, then long-polls until told to stop.
  const loops = receivers.map(async (r) => {
    let since = (await request(server, "GET", `/_matrix/client/v3/sync?filter=${FILTER}`, { token: r.token })).json.next_batch;
    parked++;
    while (!done) {
      const res = await request(server, "GET", `/_matrix/client/v3/sync?filter=${FILTER}&timeout=30000&since=${since}`, { token: r.token });
      const at = nowMs();
      if (res.status !== 200) throw new Error(`sync: ${res.text}`);
      since = res.json.next_batch;
      const section = PEEK ? res.json.rooms.peek?.[roomId] : res.json.rooms.join[roomId];
      for (const e of section?.timeline.events ?? []) {
        if (e.type === "m.room.message" && !r.seen.has(e.content.body)) r.seen.set(e.content.body, at);
      }
    }
  });

  while (parked < RECEIVERS) await new Promise((res) => setTimeout(res, 50));
  await new Promise((res) => setTimeout(res, 1000));  // let every long-poll park

  const interval = 1000 / RATE;
  const cpuBefore = cpuSeconds(server);
  const begin = nowMs();
  for (let i = 0; i < MESSAGES; i++) {
    const wait = begin + i * interval - nowMs();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const body = `m${i}`;
    sentAt.set(body, nowMs());
    const r = await request(server, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/${body}`, {
      token: sender.access_token, body: { msgtype: "m.text", body },
    });
    answeredAt.set(body, nowMs());
    if (r.status !== 200) throw new Error(`send: ${r.text}`);
  }
  // Give the last message time to arrive, then release the long-polls with one more message.
  await new Promise((res) => setTimeout(res, 2000));
  const cpuAfter = cpuSeconds(server);
  const elapsed = (nowMs() - begin) / 1000;
  done = true;
  await request(server, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/end`, {
    token: sender.access_token, body: { msgtype: "m.text", body: "end" },
  });
  await Promise.all(loops);

  const fromSend = [], fromCommit = [];
  let missed = 0;
  for (const r of receivers) {
    for (const [body, start] of sentAt) {
      const at = r.seen.get(body);
      if (at === undefined) { missed++; continue; }
      fromSend.push(at - start);
      fromCommit.push(at - answeredAt.get(body));
    }
  }
  console.log(`sync_latency: ${RECEIVERS} waiting /sync clients (${PEEK ? "peeking" : "joined"}), ${MESSAGES} messages at ${RATE} msg/s, monolith`);
  console.log(`  from send start:   ${summary(fromSend)}`);
  console.log(`  from send answer:  ${summary(fromCommit)}`);
  console.log(`  deliveries: ${fromSend.length}, missed: ${missed}`);
  const serverCpu = cpuAfter.server - cpuBefore.server, clientCpu = cpuAfter.client - cpuBefore.client;
  console.log(`  cpu over ${elapsed.toFixed(1)} s: server ${serverCpu.toFixed(1)} s (${(serverCpu / elapsed * 100).toFixed(0)}%), ` +
    `${(serverCpu / Math.max(1, fromSend.length) * 1e6).toFixed(0)} us per delivery; client ${clientCpu.toFixed(1)} s (${(clientCpu / elapsed * 100).toFixed(0)}%)`);
} finally {
  await server.destroy();
}
