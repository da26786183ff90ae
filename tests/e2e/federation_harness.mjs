// Federation test setups: Periscope servers on loopback, each with its own server name, ports,
// database and self-signed certificate, each trusting exactly the others' certificates (a CA
// bundle) and finding them through federation.servers; and scripted fake servers for what a
// misbehaving peer would send.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, makeCertificate, startPeriscope } from "./harness.mjs";
import { call } from "./http.mjs";
import { startFakeServer } from "./fake_server.mjs";

const v3 = "/_matrix/client/v3";

// Starts Periscope servers named `names` (modes[i] each) and fake servers (evil and stale, and
// any `extraFakes` names), all trusting each other; returns {servers: {name: server}, fake (the
// evil one), fakes: {name: fake}, destroy}.
export async function startFederation(specs, { extraFakes = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "periscope-federation-"));
  const fakeNames = ["evil.periscope.test", "stale.periscope.test", ...extraFakes];
  const all = [...specs.map((s) => s.name), ...fakeNames];
  const ports = {};
  const certs = {};
  for (const name of all) {
    ports[name] = await freePort();
    certs[name] = makeCertificate(dir, name, name);
  }
  const bundle = path.join(dir, "trusted.pem");
  fs.writeFileSync(bundle, all.map((n) => fs.readFileSync(certs[n].cert, "utf8")).join(""));
  const federationServers = Object.fromEntries(all.map((n) => [n, `127.0.0.1:${ports[n]}`]));
  const fakes = {};
  for (const name of fakeNames) fakes[name] = await startFakeServer({ name, port: ports[name], tls: certs[name] });
  const fake = fakes["evil.periscope.test"];
  const servers = {};
  try {
    await Promise.all(specs.map(async ({ name, mode, env }) => {
      servers[name] = await startPeriscope({
        mode, env, serverName: name, federationServers, tlsVerify: bundle,
        ports: { federation: ports[name] }, tls: certs[name],
      });
    }));
  } catch (e) {
    await Promise.all(Object.values(servers).map((s) => s.destroy()));
    await Promise.all(Object.values(fakes).map((f) => f.close()));
    throw e;
  }
  return {
    servers, fake, fakes,
    destroy: async () => {
      await Promise.all(Object.values(servers).map((s) => s.destroy()));
      await Promise.all(Object.values(fakes).map((f) => f.close()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}


// Polls a server's /sync for `user` until `found(sync)` returns something (or 30 s pass).
export async function syncUntil(server, user, found, what) {
  let since;
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const q = since ? `?timeout=2000&since=${encodeURIComponent(since)}` : "?timeout=0";
    const r = await call(server, "GET", `${v3}/sync${q}`, { token: user.access_token });
    assert.equal(r.status, 200, r.text);
    const hit = found(r.json);
    if (hit) return hit;
    since = r.json.next_batch;
  }
  assert.fail(`timed out waiting for ${what}`);
}

