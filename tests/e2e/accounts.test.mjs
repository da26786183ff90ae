// Accounts end to end: a stock matrix-js-sdk client registers, logs in, asks whoami and logs out,
// against the monolith and against the mesh; every bad-input case of the account endpoints gets
// its Matrix error; every process's /metrics passes promtool; buf curl reaches the userapi.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import test from "node:test";
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { ROOT, startPeriscope } from "./harness.mjs";
import { assertError, call, federationCall } from "./http.mjs";

logger.setLevel("warn");

// Every key at any depth, for JSON.stringify's key allow-list (which then also sorts them).
function flatKeys(value, out = {}) {
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) { out[k] = true; flatKeys(v, out); }
  }
  return out;
}

for (const mode of ["monolith", "mesh"]) {
  test(`accounts (${mode})`, async (t) => {
    const server = await startPeriscope({ mode });
    t.after(() => server.destroy());
    t.afterEach((ctx) => { if (ctx.failed) console.log(server.logs()); });

    await t.test("matrix-js-sdk registers, logs in, whoami, logs out", async () => {
      const anon = sdk.createClient({ baseUrl: server.baseUrl });
      assert.equal(await anon.isUsernameAvailable("alice"), true);
      const reg = await anon.registerRequest({
        username: "alice",
        password: "correct horse",
        initial_device_display_name: "e2e",
        auth: { type: "m.login.dummy" },
      });
      assert.equal(reg.user_id, "@alice:localhost");
      assert.ok(reg.access_token);

      const login = await anon.loginWithPassword("alice", "correct horse");
      const client = sdk.createClient({
        baseUrl: server.baseUrl,
        accessToken: login.access_token,
        userId: login.user_id,
        deviceId: login.device_id,
      });
      const who = await client.whoami();
      assert.equal(who.user_id, "@alice:localhost");
      assert.equal(who.device_id, login.device_id);

      await client.logout();
      const after = await call(server, "GET", "/_matrix/client/v3/account/whoami", { token: login.access_token });
      assertError(after, 401, "M_UNKNOWN_TOKEN");
      // The registration's own device is untouched by the other device's logout.
      const regWho = await call(server, "GET", "/_matrix/client/r0/account/whoami", { token: reg.access_token });
      assert.equal(regWho.status, 200, regWho.text);
      await assert.rejects(anon.loginWithPassword("alice", "wrong"), (e) => e.errcode === "M_FORBIDDEN");
    });

    await t.test("registration interactive auth and refusals", async () => {
      const first = await call(server, "POST", "/_matrix/client/v3/register", { body: { username: "bob", password: "pw" } });
      assert.equal(first.status, 401);
      assert.deepEqual(first.json.flows, [{ stages: ["m.login.dummy"] }]);
      const ok = await call(server, "POST", "/_matrix/client/v3/register", {
        body: { username: "bob", password: "pw", auth: { type: "m.login.dummy", session: first.json.session } },
      });
      assert.equal(ok.status, 200, ok.text);
      assertError(await call(server, "POST", "/_matrix/client/v3/register", {
        body: { username: "bob", password: "pw", auth: { type: "m.login.dummy" } },
      }), 400, "M_USER_IN_USE");
      assertError(await call(server, "GET", "/_matrix/client/v3/register/available?username=bob"), 400, "M_USER_IN_USE");
      assertError(await call(server, "POST", "/_matrix/client/v3/register", { body: { username: "Bob!", password: "pw" } }),
        400, "M_INVALID_USERNAME");
      assertError(await call(server, "POST", "/_matrix/client/v3/register?kind=guest", { body: {} }), 403, "M_GUEST_ACCESS_FORBIDDEN");
      const inhibited = await call(server, "POST", "/_matrix/client/r0/register", {
        body: { username: "carol", password: "pw", inhibit_login: true, auth: { type: "m.login.dummy" } },
      });
      assert.equal(inhibited.status, 200, inhibited.text);
      assert.equal(inhibited.json.access_token, undefined);
    });

    await t.test("bad input gets Matrix errors", async () => {
      assertError(await call(server, "POST", "/_matrix/client/v3/login", { raw: "{not json" }), 400, "M_NOT_JSON");
      assertError(await call(server, "POST", "/_matrix/client/v3/login", { raw: "[]" }), 400, "M_BAD_JSON");
      assertError(await call(server, "POST", "/_matrix/client/v3/register", { body: { username: 7 } }), 400, "M_BAD_JSON");
      assertError(await call(server, "POST", "/_matrix/client/v3/login", {
        body: { type: "m.login.password", identifier: { type: "m.id.user", user: "bob" }, password: "pw", device_id: "D".repeat(256) },
      }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", "/_matrix/client/v3/no/such/endpoint"), 404, "M_UNRECOGNIZED");
      assertError(await call(server, "PUT", "/_matrix/client/v3/login", { body: {} }), 405, "M_UNRECOGNIZED");
      assertError(await call(server, "GET", "/_matrix/client/v3/account/whoami"), 401, "M_MISSING_TOKEN");
      assertError(await call(server, "GET", "/_matrix/client/v3/account/whoami", { token: "psc_nope" }), 401, "M_UNKNOWN_TOKEN");
      assertError(await call(server, "POST", "/_matrix/client/v3/login", { raw: "x".repeat(2 * 1024 * 1024) }), 413, "M_TOO_LARGE");
      const cors = await call(server, "OPTIONS", "/_matrix/client/v3/login");
      assert.equal(cors.status, 200);
      assert.equal(cors.headers.get("access-control-allow-origin"), "*");
    });

    await t.test("the federation listener serves the self-signed key document over TLS", async () => {
      const res = await federationCall(server, "GET", "/_matrix/key/v2/server");
      assert.equal(res.status, 200);
      const doc = res.json;
      // Plain HTTP gets no answer from a TLS listener.
      await assert.rejects(fetch(`http://127.0.0.1:${server.ports.federation}/_matrix/key/v2/server`));
      assert.equal(doc.server_name, "localhost");
      const [keyId] = Object.keys(doc.verify_keys);
      assert.match(keyId, /^ed25519:/);
      assert.match(doc.verify_keys[keyId].key, /^[A-Za-z0-9+/]{43}$/);
      assert.match(doc.signatures.localhost[keyId], /^[A-Za-z0-9+/]{86}$/);
      assert.ok(doc.valid_until_ts > Date.now() + 6 * 24 * 3600 * 1000);
      // The signature verifies with the published key (ed25519 over the canonical JSON without
      // "signatures"; this document has only ASCII keys, so sorted JSON.stringify is canonical).
      const { signatures, ...unsigned } = doc;
      const canonical = JSON.stringify(unsigned, Object.keys(flatKeys(unsigned)).sort());
      const { createPublicKey, verify } = await import("node:crypto");
      const raw = Buffer.from(doc.verify_keys[keyId].key, "base64");
      const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]), format: "der", type: "spki" });
      assert.ok(verify(null, Buffer.from(canonical), publicKey, Buffer.from(signatures.localhost[keyId], "base64")));
    });

    await t.test("every process's metrics pass promtool check metrics", async () => {
      for (const [name, url] of Object.entries(server.metricsUrls)) {
        const text = await (await fetch(url)).text();
        assert.match(text, /^periscope_/m, `${name} exports Periscope metrics`);
        if (["monolith", "gateway", "userapi"].includes(name)) {
          // These handled calls during the tests above, so their RPC series exist.
          assert.match(text, /grpc_(server|client)_handled_total/, `${name} exports gRPC metrics`);
        }
        const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
        assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
      }
    });

    await t.test("buf curl lists services and calls a userapi method", async () => {
      const addr = server.grpcAddresses.userapi ?? server.grpcAddresses.monolith;
      const buf = `${ROOT}/node_modules/.bin/buf`;
      const env = { ...process.env, BUF_CACHE_DIR: `${server.dir}/buf-cache` };
      const common = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];
      const services = execFileSync(buf, [...common, "--list-services", `http://${addr}`], { env, encoding: "utf8" });
      assert.match(services, /periscope\.userapi\.v1\.UserApiService/);
      assert.match(services, /grpc\.health\.v1\.Health/);
      const methods = execFileSync(buf, [...common, "--list-methods", `http://${addr}`], { env, encoding: "utf8" });
      assert.match(methods, /periscope\.userapi\.v1\.UserApiService\/QueryAccessToken/);
      const taken = execFileSync(buf, [...common, "-d", '{"localpart":"alice"}',
        `http://${addr}/periscope.userapi.v1.UserApiService/QueryAccountAvailability`], { env, encoding: "utf8" });
      assert.deepEqual(JSON.parse(taken), {}); // available=false is proto3's default
      const free = execFileSync(buf, [...common, "-d", '{"localpart":"nobody_yet"}',
        `http://${addr}/periscope.userapi.v1.UserApiService/QueryAccountAvailability`], { env, encoding: "utf8" });
      assert.deepEqual(JSON.parse(free), { available: true });
      const health = execFileSync(buf, [...common, "-d", "{}", `http://${addr}/grpc.health.v1.Health/Check`], { env, encoding: "utf8" });
      assert.deepEqual(JSON.parse(health), { status: "SERVING" });
    });
  });
}
