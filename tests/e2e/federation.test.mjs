// Federation between Periscope servers on loopback: each has its own server name, ports,
// database and self-signed certificate; each trusts exactly the others' certificates (a CA
// bundle) and finds them through federation.servers. A third party, a scripted fake server,
// sends what a misbehaving peer would: unsigned, forged, misaddressed requests and expired keys.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { freePort, makeCertificate, startPeriscope } from "./harness.mjs";
import { assertError, call, federationCall, register } from "./http.mjs";
import { newSigningKey, startFakeServer } from "./fake_server.mjs";

const v3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

// Starts Periscope servers named `names` (modes[i] each) and a fake server, all trusting each
// other; returns {servers: {name: server}, fake, destroy}.
async function startFederation(specs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "periscope-federation-"));
  const fakeNames = ["evil.periscope.test", "stale.periscope.test"];
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

test("federation: transport, keys and request authentication", async (t) => {
  const fed = await startFederation([
    { name: "a.periscope.test", mode: "monolith" },
    { name: "b.periscope.test", mode: "mesh" },
  ]);
  t.after(() => fed.destroy());
  const a = fed.servers["a.periscope.test"];
  const b = fed.servers["b.periscope.test"];
  t.afterEach((ctx) => { if (ctx.failed) console.log(a.logs(), b.logs()); });

  const alice = await register(a, "alice");
  const bob = await register(b, "bob");
  const named = await call(b, "PUT", `${v3}/profile/${enc(bob.user_id)}/displayname`, { token: bob.access_token, body: { displayname: "Bob of B" } });
  assert.equal(named.status, 200, named.text);

  await t.test("a user on A reads the profile of a user on B (signed, verified, both ways over TLS)", async () => {
    // A's federationsender signs for A; B's federationapi fetches A's key from A to verify.
    const r = await call(a, "GET", `${v3}/profile/${enc(bob.user_id)}`, { token: alice.access_token });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { displayname: "Bob of B" });
    const field = await call(a, "GET", `${v3}/profile/${enc(bob.user_id)}/displayname`, { token: alice.access_token });
    assert.deepEqual(field.json, { displayname: "Bob of B" });
    // And the other way round, mesh to monolith.
    const back = await call(b, "GET", `${v3}/profile/${enc(alice.user_id)}`, { token: bob.access_token });
    assert.equal(back.status, 200, back.text);
    assert.deepEqual(back.json, { displayname: "alice" });
  });

  await t.test("a missing remote user is 404 M_NOT_FOUND, an unknown server is not a crash", async () => {
    assertError(await call(a, "GET", `${v3}/profile/${enc("@nobody:b.periscope.test")}`, { token: alice.access_token }), 404, "M_NOT_FOUND");
    // (An IP literal that federation will not contact: no DNS query leaves the machine.)
    const unknown = await call(a, "GET", `${v3}/profile/${enc("@x:127.0.0.1:9")}`, { token: alice.access_token });
    assert.equal(unknown.status, 503, unknown.text);
    assert.equal(typeof unknown.json?.errcode, "string");
  });

  await t.test("/version and the notary answer over TLS", async () => {
    const v = await federationCall(b, "GET", "/_matrix/federation/v1/version");
    assert.equal(v.status, 200, v.text);
    assert.equal(v.json.server.name, "Periscope");
    // B serves A's key (fetched when A first called B), countersigned by B.
    const q = await federationCall(b, "POST", "/_matrix/key/v2/query", { body: { server_keys: { "a.periscope.test": {} } } });
    assert.equal(q.status, 200, q.text);
    assert.equal(q.json.server_keys.length, 1);
    assert.equal(q.json.server_keys[0].server_name, "a.periscope.test");
    assert.ok(q.json.server_keys[0].signatures["a.periscope.test"]);
    assert.ok(q.json.server_keys[0].signatures["b.periscope.test"]);
    const g = await federationCall(b, "GET", `/_matrix/key/v2/query/a.periscope.test?minimum_valid_until_ts=${Date.now()}`);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.server_keys[0].server_name, "a.periscope.test");
    assertError(await federationCall(b, "POST", "/_matrix/key/v2/query", { body: "{nope" }), 400, "M_NOT_JSON");
    assertError(await federationCall(b, "POST", "/_matrix/key/v2/query", { body: { server_keys: [] } }), 400, "M_BAD_JSON");
  });

  await t.test("unsigned, forged, misaddressed and expired-key requests get 401 M_UNAUTHORIZED", async () => {
    const uri = `/_matrix/federation/v1/query/profile?user_id=${enc(bob.user_id)}`;
    const ask = (authorization) => federationCall(b, "GET", uri, { headers: authorization ? { authorization } : {} });
    // A genuine request from the fake server passes (so the refusals below are for the reason named).
    const ok = await ask(fed.fake.authorization("GET", uri, "b.periscope.test"));
    assert.equal(ok.status, 200, ok.text);
    assertError(await ask(undefined), 401, "M_UNAUTHORIZED");
    assertError(await ask("X-Matrix garbage"), 401, "M_UNAUTHORIZED");
    assertError(await ask(fed.fake.authorization("GET", uri, "b.periscope.test", undefined, { key: { ...newSigningKey("fake1") } })), 401, "M_UNAUTHORIZED");
    assertError(await ask(fed.fake.authorization("GET", "/_matrix/federation/v1/version", "b.periscope.test")), 401, "M_UNAUTHORIZED");
    assertError(await ask(fed.fake.authorization("GET", uri, "a.periscope.test")), 401, "M_UNAUTHORIZED");
    assertError(await ask(fed.fake.authorization("GET", uri, "b.periscope.test", undefined, { signedDestination: "a.periscope.test" })), 401, "M_UNAUTHORIZED");
    // A server pretending to be A, signing with its own key under A's real key id: B checks the
    // signature with A's published key, and it does not verify.
    const aKeys = await federationCall(a, "GET", "/_matrix/key/v2/server");
    const [aKeyId] = Object.keys(aKeys.json.verify_keys);
    const impostor = { ...newSigningKey(aKeyId.split(":")[1]) };
    assertError(await ask(fed.fake.authorization("GET", uri, "b.periscope.test", undefined, { origin: "a.periscope.test", key: impostor })), 401, "M_UNAUTHORIZED");
  });

  await t.test("a key that has expired is refused even though the server still publishes it", async () => {
    const uri = (user) => `/_matrix/federation/v1/query/profile?user_id=${enc(user.user_id)}`;
    const stale = fed.fakes["stale.periscope.test"];
    // Control: with a valid document the same server, key and signing are accepted (by A).
    const control = await federationCall(a, "GET", uri(alice), { headers: { authorization: stale.authorization("GET", uri(alice), "a.periscope.test") } });
    assert.equal(control.status, 200, control.text);
    // B has never fetched this server's keys; the document it gets expired an hour ago.
    stale.validUntil = () => Date.now() - 3600 * 1000;
    assertError(await federationCall(b, "GET", uri(bob), { headers: { authorization: stale.authorization("GET", uri(bob), "b.periscope.test") } }), 401, "M_UNAUTHORIZED");
  });

  await t.test("/send: limits, malformed bodies and replays", async () => {
    const send = (txn, body, raw) => {
      const uri = `/_matrix/federation/v1/send/${txn}`;
      const authorization = fed.fake.authorization("PUT", uri, "b.periscope.test", raw === undefined ? body : undefined);
      return federationCall(b, "PUT", uri, { body: raw ?? body, headers: { authorization, "content-type": "application/json" } });
    };
    const pdu = (i) => ({ room_id: "!unknown:b.periscope.test", type: "m.room.message", sender: "@x:evil.periscope.test", depth: i, origin_server_ts: 1, prev_events: [], auth_events: [], content: {}, hashes: { sha256: "x" }, signatures: {} });
    const base = { origin: "evil.periscope.test", origin_server_ts: Date.now() };
    assertError(await send("big", { ...base, pdus: Array.from({ length: 51 }, (_, i) => pdu(i)) }), 400, "M_BAD_JSON");
    assertError(await send("edus", { ...base, pdus: [], edus: Array.from({ length: 101 }, () => ({ edu_type: "m.typing", content: {} })) }), 400, "M_BAD_JSON");
    assertError(await send("nopdus", { ...base }), 400, "M_BAD_JSON");
    // A body that does not parse is a bad request, whatever its signature.
    assertError(await send("raw", undefined, "{not json"), 400, "M_NOT_JSON");
    // PDUs for a room this server is not in are ignored (no entry), as Synapse does.
    const first = await send("once", { ...base, pdus: [pdu(1), pdu(2)] });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json, { pdus: {} });
    for (let i = 0; i < 100; i++) {
      const again = await send("once", { ...base, pdus: [pdu(1), pdu(2)] });
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(again.json, first.json);
    }
  });

  await t.test("a server never in a room reads nothing of it: /event, /state, /state_ids, /event_auth", async () => {
    const created = await call(a, "POST", `${v3}/createRoom`, { token: alice.access_token, body: { preset: "private_chat", name: "secret" } });
    assert.equal(created.status, 200, created.text);
    const room = created.json.room_id;
    const sent = await call(a, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/t1`, { token: alice.access_token, body: { msgtype: "m.text", body: "for members only" } });
    assert.equal(sent.status, 200, sent.text);
    const ev = sent.json.event_id;
    const get = (uri) => federationCall(a, "GET", uri, { headers: { authorization: fed.fake.authorization("GET", uri, "a.periscope.test") } });
    for (const uri of [
      `/_matrix/federation/v1/event/${enc(ev)}`,
      `/_matrix/federation/v1/state/${enc(room)}?event_id=${enc(ev)}`,
      `/_matrix/federation/v1/state_ids/${enc(room)}?event_id=${enc(ev)}`,
      `/_matrix/federation/v1/event_auth/${enc(room)}/${enc(ev)}`,
    ]) {
      const r = await get(uri);
      assertError(r, 403, "M_FORBIDDEN");
      assert.doesNotMatch(r.text, /for members only/);
    }
    assertError(await get(`/_matrix/federation/v1/event/${enc("$unknown")}`), 404, "M_NOT_FOUND");
    assertError(await get(`/_matrix/federation/v1/state_ids/${enc(room)}`), 400, "M_MISSING_PARAM");
    // Unsigned, the same reads are 401 before anything else.
    assertError(await federationCall(a, "GET", `/_matrix/federation/v1/event/${enc(ev)}`), 401, "M_UNAUTHORIZED");
  });
});
