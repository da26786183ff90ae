// The commands of docs/operations.md ("Calling the internal gRPC APIs") against the mesh: buf curl
// lists, describes and calls the roomserver and the userapi through reflection, health answers
// per service, a refused call carries its Matrix errcode, and the Node example
// (examples/grpc-node/local_peekers.mjs) does the same from @grpc/grpc-js.

import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import { ROOT, freePort, startPeriscope } from "./harness.mjs";
import { call, register } from "./http.mjs";

test("internal gRPC APIs from the command line and from Node (mesh)", async (t) => {
  const server = await startPeriscope({ mode: "mesh" });
  t.after(() => server.destroy());
  const BUF = path.join(ROOT, "node_modules", ".bin", "buf");
  const env = { ...process.env, BUF_CACHE_DIR: `${server.dir}/buf-cache` };
  const curl = (...args) => spawnSync(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], { env, encoding: "utf8" });
  const json = (r) => { assert.equal(r.status, 0, r.stderr); return JSON.parse(r.stdout); };
  const rs = `http://${server.grpcAddresses.roomserver}`;
  const ua = `http://${server.grpcAddresses.userapi}`;

  const alice = await register(server, "alice");
  const bob = await register(server, "bob");  // the peeker: alice, the creator, is joined
  const room = await call(server, "POST", "/_matrix/client/v3/createRoom", {
    token: alice.access_token,
    body: { room_alias_name: "readable", initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "world_readable" } }] },
  });
  assert.equal(room.status, 200, room.text);
  const alias = `#readable:${alice.user_id.split(":").slice(1).join(":")}`;

  await t.test("list services and methods, describe a message", () => {
    const services = curl("--list-services", rs);
    assert.equal(services.status, 0, services.stderr);
    assert.match(services.stdout, /periscope\.roomserver\.v1\.RoomserverService/);
    const methods = curl("--list-methods", rs);
    assert.match(methods.stdout, /RoomserverService\/PerformPeek\n/);
    assert.match(methods.stdout, /RoomserverService\/QueryLocalPeekers/);
    const described = JSON.parse(execFileSync(BUF, ["build", "protos", "--type", "periscope.roomserver.v1.PerformPeekRequest", "-o", "-#format=json"], { env, cwd: ROOT, encoding: "utf8" }));
    const message = described.file.flatMap((f) => f.messageType ?? []).find((m) => m.name === "PerformPeekRequest");
    assert.deepEqual(message.field.map((f) => f.name), ["user_id", "device_id", "room_id_or_alias", "server_names"]);
  });

  await t.test("PerformPeek, then QueryLocalPeekers lists the peeker; a userapi query", () => {
    const peek = json(curl("-d", JSON.stringify({ user_id: bob.user_id, device_id: bob.device_id, room_id_or_alias: alias }),
      `${rs}/periscope.roomserver.v1.RoomserverService/PerformPeek`));
    assert.equal(peek.roomId, room.json.room_id);
    assert.ok(Number(peek.peekExpiryTs) > Date.now());
    const peekers = json(curl("-d", JSON.stringify({ room_id: peek.roomId }), `${rs}/periscope.roomserver.v1.RoomserverService/QueryLocalPeekers`));
    assert.deepEqual(peekers.peekers.map((p) => [p.userId, p.deviceId]), [[bob.user_id, bob.device_id]]);
    const profile = curl("-d", JSON.stringify({ user_id: alice.user_id }), `${ua}/periscope.userapi.v1.UserApiService/QueryProfile`);
    assert.equal(profile.status, 0, profile.stderr);
  });

  await t.test("a refused call exits non-zero with its status; health answers per service", () => {
    const refused = curl("-v", "-d", JSON.stringify({ user_id: bob.user_id, device_id: bob.device_id, room_id_or_alias: "!nope:elsewhere" }),
      `${rs}/periscope.roomserver.v1.RoomserverService/PerformPeek`);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stdout + refused.stderr, /not_found|not found|unimplemented|failed_precondition|invalid_argument/i);
    assert.match(refused.stderr, /matrix-errcode: M_[A-Z_]+/i);
    for (const [addr, service] of [[rs, "periscope.roomserver.v1.RoomserverService"], [ua, "periscope.userapi.v1.UserApiService"], [rs, ""]]) {
      assert.deepEqual(json(curl("-d", JSON.stringify({ service }), `${addr}/grpc.health.v1.Health/Check`)), { status: "SERVING" });
    }
  });

  await t.test("the Node example (@grpc/grpc-js) peeks, lists the peekers and reads a profile", () => {
    const example = spawnSync("node", [path.join(ROOT, "examples", "grpc-node", "local_peekers.mjs"),
      server.grpcAddresses.roomserver, server.grpcAddresses.userapi, alias, bob.user_id, "OTHERDEVICE"], { encoding: "utf8" });
    assert.equal(example.status, 0, example.stderr);
    const out = JSON.parse(example.stdout);
    assert.equal(out.peek.roomId, room.json.room_id);
    assert.ok(out.peekers.some((p) => p.deviceId === "OTHERDEVICE"));
    assert.ok("profile" in out);
    const refused = spawnSync("node", [path.join(ROOT, "examples", "grpc-node", "local_peekers.mjs"),
      server.grpcAddresses.roomserver, server.grpcAddresses.userapi, "#missing:nowhere", bob.user_id, "D"], { encoding: "utf8" });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /PerformPeek: \w+ M_[A-Z_]+/);
  });
});

test("readiness follows the dependencies: syncapi NOT_SERVING while NATS is down, the roomserver still SERVING and a send answered (its output waits in the outbox), delivered once NATS is back (mesh)", async (t) => {
  // A NATS of this test's own, so that stopping it disturbs no other test.
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "periscope-nats-"));
  const startNats = () => spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", path.join(dir, "js")], { stdio: "ignore" });
  const listening = () => new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => { s.destroy(); resolve(true); });
    s.on("error", () => resolve(false));
  });
  const until = async (what, check, ms) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline;) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.fail(`timed out waiting until ${what}`);
  };
  let nats = startNats();
  await until("nats-server listens", listening, 10000);
  const server = await startPeriscope({ mode: "mesh", env: { PERISCOPE_NATS__URL: `nats://127.0.0.1:${port}` } });
  t.after(async () => {
    await server.destroy();
    nats.kill("SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const BUF = path.join(ROOT, "node_modules", ".bin", "buf");
  const env = { ...process.env, BUF_CACHE_DIR: `${server.dir}/buf-cache` };
  const health = (component, service) => {
    const r = spawnSync(BUF, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", JSON.stringify({ service }),
      `http://${server.grpcAddresses[component]}/grpc.health.v1.Health/Check`], { env, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).status;
  };
  const alice = await register(server, "outage");
  const created = await call(server, "POST", "/_matrix/client/v3/createRoom", { token: alice.access_token, body: {} });
  assert.equal(created.status, 200, created.text);
  const roomId = created.json.room_id;
  const syncapi = () => health("syncapi", "periscope.syncapi.v1.SyncApiService");
  const roomserver = () => health("roomserver", "periscope.roomserver.v1.RoomserverService");
  assert.equal(syncapi(), "SERVING");
  assert.equal(roomserver(), "SERVING");

  const exited = new Promise((r) => nats.once("exit", r));
  nats.kill("SIGKILL");
  await exited;
  await until("syncapi reads NOT_SERVING", () => syncapi() === "NOT_SERVING", 20000);
  assert.equal(health("syncapi", ""), "SERVING", "the process itself stays live");
  // Two more rounds of the roomserver's own checks (every 5 s) after syncapi's turned.
  await new Promise((r) => setTimeout(r, 11000));
  assert.equal(roomserver(), "SERVING", "a NATS outage must not take the roomserver out of rotation");

  // A send during the outage is answered, and reaches /sync once NATS is back.
  const sent = await call(server, "PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/during`, {
    token: alice.access_token, body: { msgtype: "m.text", body: "sent while NATS was down" },
  });
  assert.equal(sent.status, 200, sent.text);

  nats = startNats();
  await until("syncapi reads SERVING again", () => syncapi() === "SERVING", 30000);
  await until("the message sent during the outage is in /sync", async () => {
    const r = await call(server, "GET", "/_matrix/client/v3/sync?timeout=1000", { token: alice.access_token });
    return (r.json?.rooms?.join?.[roomId]?.timeline?.events ?? []).some((e) => e.event_id === sent.json.event_id);
  }, 30000);
});
