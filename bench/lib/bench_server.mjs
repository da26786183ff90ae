// Shared by the HTTP benchmarks: a monolith started by the end-to-end harness with settings fit
// for measuring (warn-level logs, a larger connection pool, cheap password hashing), plus a
// keep-alive HTTP client and percentile helpers.

import fs from "node:fs";
import http from "node:http";
import { startPeriscope } from "../../tests/e2e/harness.mjs";

export async function startBenchServer() {
  return startPeriscope({
    mode: "monolith",
    env: {
      PERISCOPE_LOGGING__LEVEL: "warn",
      PERISCOPE_DATABASE__MAX_CONNECTIONS: process.env.BENCH_DB_CONNECTIONS ?? "16",
      // Every benchmark client connects from 127.0.0.1: no per-address connection limit.
      PERISCOPE_GATEWAY__MAX_CONNECTIONS_PER_ADDRESS: "0",
      ...(process.env.BENCH_IO_THREADS ? { PERISCOPE_GATEWAY__IO_THREADS: process.env.BENCH_IO_THREADS } : {}),
    },
  });
}

// One keep-alive agent: every request reuses a connection, as a real client would.
// Enough sockets for every parked long-poll of parked_syncs (the agent queues requests beyond it).
const agent = new http.Agent({ keepAlive: true, maxSockets: 16384 });

// Sends a request; resolves to {status, json}.
export function request(server, method, path, { token, body } = {}) {
  const url = new URL(server.baseUrl + path);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (payload !== undefined) headers["content-length"] = Buffer.byteLength(payload);
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export async function registerUser(server, username) {
  const r = await request(server, "POST", "/_matrix/client/v3/register", {
    body: { username, password: "pw", auth: { type: "m.login.dummy" } },
  });
  if (r.status !== 200) throw new Error(`register ${username}: ${r.text}`);
  return r.json;
}

// The public harness's setup: register a user, log in with the password, create a private_chat
// room. Returns the access token, the room id and the room id encoded for a path.
export async function senderInPrivateRoom(server, username = "bench") {
  await registerUser(server, username);
  const login = await request(server, "POST", "/_matrix/client/v3/login", {
    body: { type: "m.login.password", identifier: { type: "m.id.user", user: username }, password: "pw" },
  });
  if (login.status !== 200) throw new Error(`login ${username}: ${login.text}`);
  const token = login.json.access_token;
  const created = await request(server, "POST", "/_matrix/client/v3/createRoom", { token, body: { preset: "private_chat" } });
  if (created.status !== 200) throw new Error(`createRoom: ${created.text}`);
  return { token, roomId: created.json.room_id, room: encodeURIComponent(created.json.room_id) };
}

// The q-quantile (0..1) of `values` (milliseconds), nearest-rank.
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function summary(latencies) {
  const f = (v) => v.toFixed(2);
  return `p50 ${f(quantile(latencies, 0.5))} ms, p95 ${f(quantile(latencies, 0.95))} ms, p99 ${f(quantile(latencies, 0.99))} ms, max ${f(Math.max(...latencies))} ms`;
}

export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

// CPU seconds (user + system) the server's processes and this client have used so far: sampled
// before and after a run, they say how much of the machine each side took.
export function cpuSeconds(server) {
  let serverTicks = 0;
  for (const pid of Object.values(server.pids())) {
    // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks; the name (field 2) may
    // hold spaces, so count from its closing parenthesis.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    serverTicks += Number(fields[11]) + Number(fields[12]);
  }
  const client = process.cpuUsage();
  return { server: serverTicks / CLOCK_TICKS, client: (client.user + client.system) / 1e6 };
}

const CLOCK_TICKS = 100;  // sysconf(_SC_CLK_TCK) on Linux

// A metric's value from the monolith's /metrics (first sample of that name), NaN if absent.
export async function metricValue(server, name) {
  const text = await (await fetch(server.metricsUrls.monolith)).text();
  return Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m"))?.[1]);
}

// Sends `messages` messages ("m0", "m1", ...) at `rate` per second with send(body), waits 2 s,
// and returns {latencies, missed}: for each, the time from its send's start to `seen` (a Map of
// body -> arrival time, filled by the caller's reader) having it.
export async function timedSends({ messages, rate, send, seen }) {
  const sentAt = new Map();
  const begin = nowMs();
  for (let i = 0; i < messages; i++) {
    const wait = begin + (i * 1000) / rate - nowMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sentAt.set(`m${i}`, nowMs());
    const r = await send(`m${i}`);
    if (r.status !== 200) throw new Error(`send: ${r.text}`);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const latencies = [];
  let missed = 0;
  for (const [body, at] of sentAt) {
    if (seen.has(body)) latencies.push(seen.get(body) - at); else missed++;
  }
  return { latencies, missed };
}
