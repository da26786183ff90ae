// Server CPU per request, by layer: 20,000 requests (N overrides), 50 at a time, of
//   versions    - the gateway alone (HTTP parse, route, JSON answer);
//   whoami      - plus the access-token check (cached after the first);
//   sync-empty  - plus an in-process gRPC call to syncapi that builds an empty incremental sync.
// The differences say what each layer costs; the client's own CPU per request is printed too,
// since on a small machine the load generator competes with the server for the same cores.
//
// Run with bench/run-http request_cost. BENCH_IO_THREADS sets the gateway's HTTP threads.

import { cpuSeconds, nowMs, registerUser, request, startBenchServer } from "./lib/bench_server.mjs";

const N = Number(process.env.N ?? 20000);
const CONCURRENCY = 50;

const server = await startBenchServer();
try {
  const user = await registerUser(server, "u");
  const since = (await request(server, "GET", "/_matrix/client/v3/sync", { token: user.access_token })).json.next_batch;
  const cases = [
    ["versions", "/_matrix/client/versions", undefined],
    ["whoami", "/_matrix/client/v3/account/whoami", user.access_token],
    ["sync-empty", `/_matrix/client/v3/sync?since=${since}&timeout=0`, user.access_token],
  ];
  for (const [name, path, token] of cases) {
    const before = cpuSeconds(server), start = nowMs();
    let sent = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (sent++ < N) {
        const r = await request(server, "GET", path, { token });
        if (r.status !== 200) throw new Error(`${name}: ${r.text}`);
      }
    }));
    const after = cpuSeconds(server), seconds = (nowMs() - start) / 1000;
    const us = (s) => ((s / N) * 1e6).toFixed(0);
    console.log(`${name}: ${(N / seconds).toFixed(0)} req/s; server ${us(after.server - before.server)} us/req, client ${us(after.client - before.client)} us/req`);
  }
} finally {
  await server.destroy();
}
