// What a waiting /sync costs: N devices (of 100 users) each hold a long-poll /sync (timeout 60 s)
// against the monolith; the harness reads the monolith's resident memory and thread count from /proc before
// and after, and prints the memory per waiting sync. Then one message in a room all of them
// joined wakes every one of them, and the harness prints how long until all had answered.
//
// Run with bench/run-http parked_syncs (BENCH_WAITERS, default 2000).

import fs from "node:fs";
import { metricValue, nowMs, registerUser, request, startBenchServer } from "./lib/bench_server.mjs";

const WAITERS = Number(process.env.BENCH_WAITERS ?? 2000);
// Lazy-loaded members keep each response small in a room of thousands.
const FILTER = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 1 }, state: { lazy_load_members: true } } }));

function procStatus(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))[1]);
  return { rssKiB: field("VmRSS"), threads: field("Threads") };
}

const server = await startBenchServer();
try {
  const pid = server.pids().monolith;
  const owner = await registerUser(server, "owner");
  const created = await request(server, "POST", "/_matrix/client/v3/createRoom", { token: owner.access_token, body: { preset: "public_chat" } });
  const room = encodeURIComponent(created.json.room_id);
  // Devices, not users, are what wait: 100 users join the room (joins of thousands would make
  // the setup the benchmark), and each logs in again until there are WAITERS devices.
  const members = [];
  for (let i = 0; i < Math.min(WAITERS, 100); i++) {
    const account = await registerUser(server, `waiter${i}`);
    await request(server, "POST", `/_matrix/client/v3/rooms/${room}/join`, { token: account.access_token, body: {} });
    members.push({ name: `waiter${i}`, token: account.access_token });
  }
  const users = [];
  for (let i = 0; i < WAITERS; i++) {
    const member = members[i % members.length];
    const token = i < members.length ? member.token : (await request(server, "POST", "/_matrix/client/v3/login", {
      body: { type: "m.login.password", identifier: { type: "m.id.user", user: member.name }, password: "pw" },
    })).json.access_token;
    const since = (await request(server, "GET", `/_matrix/client/v3/sync?filter=${FILTER}`, { token })).json.next_batch;
    users.push({ token, since });
  }
  // The last joins move every token on: take fresh ones so that the waits really wait.
  for (const u of users) {
    u.since = (await request(server, "GET", `/_matrix/client/v3/sync?filter=${FILTER}&since=${u.since}&timeout=0`, { token: u.token })).json.next_batch;
  }
  await new Promise((r) => setTimeout(r, 1000));
  const before = procStatus(pid);

  let answered = 0;
  const waits = users.map(async (u) => {
    await request(server, "GET", `/_matrix/client/v3/sync?filter=${FILTER}&since=${u.since}&timeout=60000`, { token: u.token });
    answered++;
  });
  // Every long-poll parked in syncapi (its gauge says so), then a moment for memory to settle.
  for (const deadline = nowMs() + 120000; (await metricValue(server, "periscope_syncapi_waiting_syncs")) < WAITERS;) {
    if (nowMs() > deadline) throw new Error("the long-polls did not all park");
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, 1000));
  if (answered > 0) throw new Error(`${answered} syncs answered before anything happened`);
  const parked = procStatus(pid);

  const start = nowMs();
  await request(server, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/wake`, { token: owner.access_token, body: { msgtype: "m.text", body: "wake" } });
  await Promise.all(waits);
  const allAnswered = nowMs() - start;

  const perWaiter = ((parked.rssKiB - before.rssKiB) / WAITERS).toFixed(2);
  console.log(`parked_syncs: ${WAITERS} waiting /sync long-polls, monolith`);
  console.log(`  resident memory: ${before.rssKiB} KiB idle -> ${parked.rssKiB} KiB parked: ${perWaiter} KiB per waiting sync`);
  console.log(`  threads: ${before.threads} idle -> ${parked.threads} parked`);
  console.log(`  one message woke all ${WAITERS}: the last answered after ${allAnswered.toFixed(0)} ms`);
} finally {
  await server.destroy();
}
