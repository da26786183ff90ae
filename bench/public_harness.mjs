// The public matrix-server-performance harness (github.com/BridgerB/matrix-server-performance,
// benchmark.ts), run unchanged against the monolith: it registers a user, logs in, creates a
// private_chat room, sends 500 messages sequentially, then 500 across 10 workers, and prints
// msg/s and latency percentiles (the JSON result last). Its code is not part of this repository:
// transpile its benchmark.ts and name the result (see bench/README.md, "The public harness"):
//
//   PUBLIC_HARNESS=/tmp/msp/out/benchmark.js bench/run-http public_harness

import path from "node:path";
import { pathToFileURL } from "node:url";
import { startBenchServer } from "./lib/bench_server.mjs";

const harness = process.env.PUBLIC_HARNESS;
if (!harness) {
  console.log("public_harness: skipped (set PUBLIC_HARNESS to the transpiled benchmark.js; see bench/README.md)");
  process.exit(0);
}
const { runBenchmark } = await import(pathToFileURL(path.resolve(harness)).href);
const server = await startBenchServer();
try {
  const result = await runBenchmark({
    serverName: "periscope",
    baseUrl: server.baseUrl,
    numMessages: Number(process.env.BENCH_MESSAGES ?? 500),
    concurrency: Number(process.env.BENCH_WORKERS ?? 10),
  });
  console.log(JSON.stringify(result));
} finally {
  await server.destroy();
}
