// Starts Periscope for end-to-end tests: the monolith, or the mesh (each component its own
// process), on free loopback ports, against the PostgreSQL and NATS that scripts/test started
// (TEST_POSTGRES_DSN, TEST_NATS_URL). Each instance gets a fresh database and its own stream
// prefix, and stop() ends exactly the processes it started and drops the database.

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BUILD = process.env.E2E_BUILD_DIR ?? path.join(ROOT, "build");
const PSQL = "/usr/lib/postgresql/15/bin/psql";
export const COMPONENTS = ["userapi", "roomserver", "syncapi", "federationapi", "federationsender"];

// Ports are drawn at random from 20000-32767, below Linux's ephemeral range (32768-60999): a
// port the kernel handed out (port 0) can be taken again by any outgoing connection of a test
// running in parallel before our process binds it; these cannot. Each port is handed out once
// per test process.
const handedOut = new Set();
function canListen(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}
export async function freePort() {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free port in 20000-32767");
}

function requireEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the end-to-end tests through scripts/test`);
  return v;
}

function psql(dsn, sql) {
  execFileSync(PSQL, [dsn, "-v", "ON_ERROR_STOP=1", "-qc", sql], { stdio: ["ignore", "ignore", "pipe"] });
}

async function waitFor(check, what, timeoutMs, procs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const p of procs) {
      if (p.exitCode !== null) throw new Error(`${p.name} exited with ${p.exitCode} while waiting for ${what}:\n${p.tail()}`);
    }
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.on("connect", () => { s.destroy(); resolve(true); });
    s.on("error", () => resolve(false));
  });
}

function yamlAddress(port) {
  return `127.0.0.1:${port}`;
}

// Every Periscope process any harness started. A test that fails or times out half-way, or
// node --test-force-exit, must not leave one running: whatever still runs when node exits is
// killed (a signal is all that can be sent synchronously from an 'exit' handler).
const spawned = new Set();
process.on("exit", () => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

// A self-signed certificate (its own CA) for `name`'s host, made with the openssl command line.
export function makeCertificate(dir, name, stem = "federation") {
  const host = name.replace(/:\d+$/, "");
  const cert = path.join(dir, `${stem}.crt`);
  const key = path.join(dir, `${stem}.key`);
  const alt = /^[0-9.]+$/.test(host) ? `IP:${host}` : `DNS:${host}`;
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", `/CN=${host}`, "-addext", `subjectAltName=${alt}`, "-addext", "basicConstraints=critical,CA:TRUE",
    "-keyout", key, "-out", cert,
  ], { stdio: "ignore" });
  return { cert, key };
}

// Options: mode ("monolith" or "mesh"); env (extra environment); serverName (default
// "localhost"); federationServers ({name: "host:port"}, federation.servers); tlsVerify
// (federation.tls_verify: "true", "false" or a CA bundle path; default "false"); ports (chosen
// ports, e.g. {federation} when other servers must know it in advance); tls ({cert, key} of the
// federation listener, made in advance so that other servers can trust it; default: made here).
export async function startPeriscope({
  mode = "monolith", env = {}, serverName = "localhost", federationServers = {}, tlsVerify = "false",
  ports: presetPorts = {}, tls: presetTls,
} = {}) {
  const adminDsn = requireEnv("TEST_POSTGRES_DSN");
  const natsUrl = requireEnv("TEST_NATS_URL");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `periscope-e2e-${mode}-`));
  const suffix = Math.random().toString(36).slice(2, 10);
  const dbName = `e2e_${suffix}`;
  psql(adminDsn, `CREATE DATABASE ${dbName}`);

  const keyPath = path.join(dir, "signing.key");
  execFileSync(path.join(BUILD, "cmd/periscope-keygen"), ["--out", keyPath], { stdio: "ignore" });

  const ports = {
    client: await freePort(),
    federation: presetPorts.federation ?? await freePort(),
    gatewayMetrics: await freePort(),
    monolithGrpc: await freePort(),
    monolithMetrics: await freePort(),
  };
  for (const c of COMPONENTS) {
    ports[`${c}Grpc`] = await freePort();
    ports[`${c}Metrics`] = await freePort();
  }
  const componentYaml = COMPONENTS.map(
    (c) => `${c}:\n  grpc_listen: ${yamlAddress(ports[`${c}Grpc`])}\n  metrics_listen: ${yamlAddress(ports[`${c}Metrics`])}\n`,
  ).join("");
  const tls = presetTls ?? makeCertificate(dir, serverName);
  const serversYaml = Object.entries(federationServers).map(([n, a]) => `    "${n}": "${a}"\n`).join("");
  const config = `server_name: "${serverName}"
signing_key_path: ${keyPath}
federation:
  tls_certificate: ${tls.cert}
  tls_private_key: ${tls.key}
  tls_verify: "${tlsVerify}"
  servers:${serversYaml ? "\n" + serversYaml : " {}\n"}
database:
  dsn: "${adminDsn} dbname=${dbName}"
  max_connections: 4
nats:
  url: ${natsUrl}
  stream_prefix: E2E_${suffix.toUpperCase()}
logging:
  level: info
monolith:
  grpc_listen: ${yamlAddress(ports.monolithGrpc)}
  metrics_listen: ${yamlAddress(ports.monolithMetrics)}
gateway:
  client_listen: ${yamlAddress(ports.client)}
  federation_listen: ${yamlAddress(ports.federation)}
  metrics_listen: ${yamlAddress(ports.gatewayMetrics)}
  upstream_timeout: 5s
${componentYaml}`;
  const configPath = path.join(dir, "periscope.yaml");
  fs.writeFileSync(configPath, config);

  const childEnv = {
    ...process.env,
    // Cheap password hashing: the tests exercise the flow, not argon2's cost.
    PERISCOPE_USERAPI__PASSWORD_HASH__OPS_LIMIT: "1",
    PERISCOPE_USERAPI__PASSWORD_HASH__MEM_LIMIT_KIB: "8",
    // Every test client registers from 127.0.0.1, many users a second: lift the /login and
    // /register rate limits (gateway_test covers them) unless a test sets its own.
    PERISCOPE_GATEWAY__AUTH_RATE_LIMIT_BURST: "1000000",
    ...env,
  };
  const metricsUrls = {};
  const grpcAddresses = {};
  const baseUrl = `http://127.0.0.1:${ports.client}`;
  let procs = [];

  const launchOne = (name, binary) => {
    const logPath = path.join(dir, `${name}.log`);
    const out = fs.openSync(logPath, "a");
    const child = spawn(path.join(BUILD, "cmd", binary), ["--config", configPath], {
      env: childEnv,
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    child.name = name;
    spawned.add(child);
    child.exited = new Promise((r) => child.on("exit", (code, signal) => {
      spawned.delete(child);
      r({ code, signal });
    }));
    child.tail = () => fs.readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");
    procs.push(child);
  };

  // Starts the processes and waits until every one serves.
  const launch = async () => {
    procs = [];
    if (mode === "monolith") {
      launchOne("monolith", "periscope");
      metricsUrls.monolith = `http://127.0.0.1:${ports.monolithMetrics}/metrics`;
      grpcAddresses.monolith = `127.0.0.1:${ports.monolithGrpc}`;
    } else {
      for (const c of COMPONENTS) {
        launchOne(c, `periscope-${c}`);
        metricsUrls[c] = `http://127.0.0.1:${ports[`${c}Metrics`]}/metrics`;
        grpcAddresses[c] = `127.0.0.1:${ports[`${c}Grpc`]}`;
      }
      launchOne("gateway", "periscope-gateway");
      metricsUrls.gateway = `http://127.0.0.1:${ports.gatewayMetrics}/metrics`;
    }
    await waitFor(async () => (await fetch(`${baseUrl}/healthz`)).ok, "the gateway", 20000, procs);
    for (const url of Object.values(metricsUrls)) {
      await waitFor(async () => (await fetch(url)).ok, url, 20000, procs);
    }
    for (const addr of Object.values(grpcAddresses)) {
      await waitFor(() => tcpOpen(Number(addr.split(":")[1])), addr, 20000, procs);
    }
  };

  // SIGTERM to every process; resolves to {name: {code, signal}} once all have exited.
  const stop = async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    const results = {};
    await Promise.all(procs.map(async (p) => {
      const timer = setTimeout(() => p.kill("SIGKILL"), 15000);
      results[p.name] = await p.exited;
      clearTimeout(timer);
    }));
    return results;
  };

  // Stops the processes, drops the database and removes the directory.
  const destroy = async () => {
    await stop();
    try {
      psql(adminDsn, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    } catch {
      // best effort
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    await launch();
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    mode, baseUrl, ports, metricsUrls, grpcAddresses, dir, configPath, childEnv, serverName,
    certificate: tls.cert,
    stop, destroy,
    // SIGKILLs one process (a crash) and waits for it to be gone.
    kill: async (name) => {
      const p = procs.find((x) => x.name === name);
      p.kill("SIGKILL");
      await p.exited;
    },
    // Stops and starts the same processes on the same database (a restart of the server).
    restart: async () => { const codes = await stop(); await launch(); return codes; },
    // SIGTERMs the named mesh components and starts them again (in monolith mode, the monolith,
    // which is all of them); resolves once they serve again.
    restartComponents: async (names) => {
      if (mode === "monolith") { await stop(); await launch(); return; }
      for (const name of names) {
        const p = procs.find((x) => x.name === name);
        p.kill("SIGTERM");
        await p.exited;
        procs = procs.filter((x) => x !== p);
      }
      for (const name of names) launchOne(name, `periscope-${name}`);
      for (const name of names) {
        await waitFor(() => tcpOpen(Number(grpcAddresses[name].split(":")[1])), name, 20000, procs);
      }
    },
    logs: () => procs.map((p) => `== ${p.name}\n${p.tail()}`).join("\n"),
    // {name: pid} of the running processes (the benchmarks read their memory from /proc).
    pids: () => Object.fromEntries(procs.map((p) => [p.name, p.pid])),
  };
}
