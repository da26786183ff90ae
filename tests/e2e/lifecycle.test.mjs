// Process lifecycle: a bad configuration stops a binary before it serves, with the key named;
// SIGTERM stops every process cleanly, answering a parked long-poll first; a restart keeps every
// account (nothing lost).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import test from "node:test";
import { BUILD, COMPONENTS, startPeriscope } from "./harness.mjs";

const BINARIES = ["periscope", "periscope-gateway", ...COMPONENTS.map((c) => `periscope-${c}`)];

test("a bad configuration exits non-zero before serving, naming key and value", () => {
  const dir = fs.mkdtempSync("/tmp/periscope-badconfig-");
  const config = path.join(dir, "bad.yaml");
  fs.writeFileSync(config, [
    "server_name: localhost",
    "signing_key_path: /nonexistent/key",
    "database: {dsn: 'host=127.0.0.1 port=1', max_connections: lots}",
    "nats: {url: 'nats://127.0.0.1:1'}",
    "gateway: {client_listen: nowhere}",
    "databse: {}",
  ].join("\n"));
  try {
    for (const bin of BINARIES) {
      const r = spawnSync(path.join(BUILD, "cmd", bin), ["--config", config], { encoding: "utf8", timeout: 10000 });
      assert.equal(r.status, 1, `${bin}: ${r.stderr}`);
      assert.match(r.stderr, /database\.max_connections: got "lots", expected an integer from 1 to 1000/, bin);
      assert.match(r.stderr, /gateway\.client_listen: got "nowhere"/, bin);
      assert.match(r.stderr, /databse: unknown key/, bin);
    }
    // An environment override with a typo is refused too.
    const r = spawnSync(path.join(BUILD, "cmd", "periscope"), ["--config", config], {
      encoding: "utf8", timeout: 10000, env: { ...process.env, PERISCOPE_NATS__URLL: "x" },
    });
    assert.match(r.stderr, /nats\.urll: unknown key/);
    const missing = spawnSync(path.join(BUILD, "cmd", "periscope"), ["--config", path.join(dir, "none.yaml")], { encoding: "utf8" });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read the configuration file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing signing key or an unreachable database stops start-up with a clear error", async () => {
  const server = await startPeriscope({ mode: "monolith" });
  try {
    await server.stop();
    const noKey = spawnSync(path.join(BUILD, "cmd", "periscope"), ["--config", server.configPath], {
      encoding: "utf8", timeout: 10000, env: { ...server.childEnv, PERISCOPE_SIGNING_KEY_PATH: "/nonexistent/key" },
    });
    assert.equal(noKey.status, 1);
    assert.match(noKey.stderr, /\/nonexistent\/key: cannot read the signing key/);
    const noDb = spawnSync(path.join(BUILD, "cmd", "periscope-userapi"), ["--config", server.configPath], {
      encoding: "utf8", timeout: 15000, env: { ...server.childEnv, PERISCOPE_DATABASE__DSN: "host=127.0.0.1 port=1 connect_timeout=2" },
    });
    assert.equal(noDb.status, 1);
    assert.match(noDb.stderr, /cannot connect to PostgreSQL/);
  } finally {
    await server.destroy();
  }
});

for (const mode of ["monolith", "mesh"]) {
  test(`SIGTERM stops cleanly and a restart keeps the accounts (${mode})`, async (t) => {
    const server = await startPeriscope({ mode });
    t.after(() => server.destroy());
    const post = (p, body) => fetch(server.baseUrl + p, { method: "POST", body: JSON.stringify(body) });
    const reg = await post("/_matrix/client/v3/register", { username: "dora", password: "pw", auth: { type: "m.login.dummy" } });
    assert.equal(reg.status, 200);
    const { access_token: token } = await reg.json();
    const auth = { headers: { authorization: `Bearer ${token}` } };

    // A /sync parked in a long-poll when SIGTERM comes is answered, not cut off: the gateway
    // cancels it (503, retry) or syncapi releases it (200, nothing new), well before its timeout.
    const first = await (await fetch(`${server.baseUrl}/_matrix/client/v3/sync?timeout=0`, auth)).json();
    const parked = fetch(`${server.baseUrl}/_matrix/client/v3/sync?timeout=30000&since=${first.next_batch}`, auth)
      .then(async (r) => ({ status: r.status, body: await r.json(), at: Date.now() }));
    await new Promise((resolve) => setTimeout(resolve, 300));  // parked by now
    const stopping = Date.now();
    const codes = await server.restart();
    const answer = await parked;
    assert.ok([200, 503].includes(answer.status), JSON.stringify(answer));
    if (answer.status === 503) assert.equal(answer.body.errcode, "M_UNKNOWN");
    assert.ok(answer.at - stopping < 10000, `answered ${answer.at - stopping} ms after SIGTERM`);
    for (const [name, { code, signal }] of Object.entries(codes)) {
      assert.equal(signal, null, `${name} was killed by ${signal}`);
      assert.equal(code, 0, `${name} exited with ${code}`);
    }

    const who = await fetch(`${server.baseUrl}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(who.status, 200, "the token survives the restart");
    const login = await post("/_matrix/client/v3/login", { type: "m.login.password", user: "dora", password: "pw" });
    assert.equal(login.status, 200, "the account survives the restart");
  });
}

test("a component that is down gives 503 M_UNKNOWN at once, not a hang (mesh)", async (t) => {
  const server = await startPeriscope({ mode: "mesh" });
  t.after(() => server.destroy());
  await server.kill("userapi");
  const started = Date.now();
  const r = await fetch(`${server.baseUrl}/_matrix/client/v3/login`, {
    method: "POST",
    body: JSON.stringify({ type: "m.login.password", user: "x", password: "y" }),
  });
  const body = await r.json();
  assert.equal(r.status, 503, JSON.stringify(body));
  assert.equal(body.errcode, "M_UNKNOWN");
  assert.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms`);
  const who = await fetch(`${server.baseUrl}/_matrix/client/v3/account/whoami`, { headers: { authorization: "Bearer psc_x" } });
  assert.equal(who.status, 503);
});
