// Local peeking (MSC2753) end to end over HTTP, monolith and mesh: the public sytest peeking
// cases (peek by room id and by alias, non-world_readable rooms refused, only the peeking device
// sees the room) and Periscope's commitments: a waiting /sync woken by its own peek, unpeek ->
// rooms.leave once, peek -> join without resending state, expiry when the device stops syncing
// (lifetime 2 s here), and every bad input.

import assert from "node:assert/strict";
import http from "node:http";
import test from "node:test";
import { startPeriscope } from "./harness.mjs";
import { assertError, call, register } from "./http.mjs";

const v3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

async function createRoom(server, who, visibility, extra = {}) {
  const r = await call(server, "POST", `${v3}/createRoom`, {
    token: who.access_token,
    body: { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: visibility } }], ...extra },
  });
  assert.equal(r.status, 200, r.text);
  return r.json.room_id;
}

async function sync(server, who, since, timeout = 0) {
  const query = since ? `?since=${since}&timeout=${timeout}` : "";
  const r = await call(server, "GET", `${v3}/sync${query}`, { token: who.access_token });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// Syncs from `since` until `done(response)`; returns that response.
async function syncUntil(server, who, since, done) {
  for (let i = 0; i < 40; i++) {
    const r = await sync(server, who, since, 5000);
    if (done(r)) return r;
    since = r.next_batch;
  }
  throw new Error("the awaited sync never came");
}

for (const mode of ["monolith", "mesh"]) {
  test(`local peeking (${mode})`, async (t) => {
    const server = await startPeriscope({
      mode, env: { PERISCOPE_PEEKING__RATE_LIMIT_BURST: "30", PERISCOPE_PEEKING__LOCAL_PEEK_LIFETIME: "2s" },
    });
    t.after(() => server.destroy());
    t.afterEach((ctx) => { if (ctx.failed) console.log(server.logs()); });

    const alice = await register(server, "alice");
    const bob = await register(server, "bob");
    const room = await createRoom(server, alice, "world_readable", { room_alias_name: "readable" });
    const said = await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/t1`, { token: alice.access_token, body: { msgtype: "m.text", body: "hello peekers" } });
    assert.equal(said.status, 200, said.text);

    await t.test("/versions advertises MSC2753", async () => {
      const r = await call(server, "GET", "/_matrix/client/versions");
      assert.equal(r.json.unstable_features["org.matrix.msc2753"], true);
    });

    await t.test("peek by room id: the room in rooms.peek, state from m.room.create, the message last; no repeat", async () => {
      const start = await sync(server, bob);
      const r = await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: bob.access_token, body: {} });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.room_id, room);
      assert.ok(r.json.peek_expiry_ts > Date.now(), "an expiry in the future");
      const got = await syncUntil(server, bob, start.next_batch, (s) => s.rooms.peek?.[room]);
      const peeked = got.rooms.peek[room];
      const types = [...peeked.state.events, ...peeked.timeline.events].map((e) => e.type);
      assert.ok(types.includes("m.room.create"), `m.room.create in ${types}`);
      assert.equal(peeked.timeline.events.at(-1).content.body, "hello peekers");
      assert.deepEqual(got.rooms.join, {});
      const again = await sync(server, bob, got.next_batch, 0);
      assert.equal(again.rooms.peek?.[room], undefined, "an immediate re-sync does not repeat the room");
    });

    await t.test("only the peeking device sees the peek", async () => {
      const login = await call(server, "POST", `${v3}/login`, {
        body: { type: "m.login.password", identifier: { type: "m.id.user", user: "bob" }, password: "pw" },
      });
      assert.equal(login.status, 200, login.text);
      const other = await sync(server, login.json);
      assert.equal(other.rooms.peek?.[room], undefined);
    });

    await t.test("a waiting /sync is woken by its own new peek; peek by alias (unstable prefix)", async () => {
      const carol = await register(server, "carol");
      const start = await sync(server, carol);
      const began = Date.now();
      const waiting = sync(server, carol, start.next_batch, 20000);
      await new Promise((r) => setTimeout(r, 300));
      const r = await call(server, "POST", `/_matrix/client/unstable/org.matrix.msc2753/peek/${enc("#readable:localhost")}`, { token: carol.access_token });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.room_id, room);
      const woken = await waiting;
      assert.ok(Date.now() - began < 10000, "woken, not timed out");
      const got = woken.rooms.peek?.[room] ? woken : await syncUntil(server, carol, woken.next_batch, (s) => s.rooms.peek?.[room]);
      assert.ok(got.rooms.peek[room].timeline.events.length > 0);
    });

    await t.test("unpeek: the room leaves once, then nothing; peek again starts afresh", async () => {
      const dave = await register(server, "dave");
      const start = await sync(server, dave);
      assert.equal((await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: dave.access_token })).status, 200);
      const peeked = await syncUntil(server, dave, start.next_batch, (s) => s.rooms.peek?.[room]);
      // A message after the device's last /sync and before its unpeek comes with the leave: the
      // peek showed the room up to its end.
      const last = await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/unpeek-${mode}`, {
        token: alice.access_token, body: { msgtype: "m.text", body: "just before the unpeek" },
      });
      assert.equal(last.status, 200, last.text);
      const r = await call(server, "POST", `${v3}/rooms/${enc(room)}/unpeek`, { token: dave.access_token, body: {} });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, {});
      // The message comes exactly once: with the leave, or (if a sync caught syncapi between the
      // two) in rooms.peek just before it.
      const delivered = [];
      const left = await syncUntil(server, dave, peeked.next_batch, (s) => {
        for (const section of [s.rooms.peek?.[room], s.rooms.leave?.[room]]) {
          delivered.push(...(section?.timeline.events ?? []).map((e) => e.event_id));
        }
        return s.rooms.leave?.[room];
      });
      assert.deepEqual(delivered, [last.json.event_id]);
      const after = await sync(server, dave, left.next_batch, 0);
      assert.equal(after.rooms.leave?.[room], undefined, "once");
      assertError(await call(server, "POST", `${v3}/rooms/${enc(room)}/unpeek`, { token: dave.access_token, body: {} }), 400, "M_BAD_STATE");
      assert.equal((await call(server, "POST", `/_matrix/client/r0/peek/${enc(room)}`, { token: dave.access_token })).status, 200);
      const fresh = await syncUntil(server, dave, after.next_batch, (s) => s.rooms.peek?.[room]);
      const types = [...fresh.rooms.peek[room].state.events, ...fresh.rooms.peek[room].timeline.events].map((e) => e.type);
      assert.ok(types.includes("m.room.create"), "full state again");
    });

    await t.test("peek then join: the room moves to rooms.join without its state resent", async () => {
      const erin = await register(server, "erin");
      const start = await sync(server, erin);
      await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: erin.access_token });
      const peeked = await syncUntil(server, erin, start.next_batch, (s) => s.rooms.peek?.[room]);
      const joined = await call(server, "POST", `${v3}/join/${enc(room)}`, { token: erin.access_token, body: {} });
      assert.equal(joined.status, 200, joined.text);
      const got = await syncUntil(server, erin, peeked.next_batch, (s) => s.rooms.join?.[room]);
      assert.equal(got.rooms.peek?.[room], undefined);
      assert.equal(got.rooms.leave?.[room], undefined);
      assert.deepEqual(got.rooms.join[room].state.events, [], "no state resent");
      assert.deepEqual(got.rooms.join[room].timeline.events.map((e) => e.type), ["m.room.member"]);
      assertError(await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: erin.access_token }), 400, "M_BAD_STATE");
    });

    await t.test("rooms that are not world_readable, and bad input, are refused", async () => {
      for (const visibility of ["shared", "invited", "joined"]) {
        const closed = await createRoom(server, alice, visibility);
        assertError(await call(server, "POST", `${v3}/peek/${enc(closed)}`, { token: bob.access_token }), 403, "M_FORBIDDEN");
      }
      const encrypted = await createRoom(server, alice, "world_readable", {
        initial_state: [
          { type: "m.room.history_visibility", state_key: "", content: { history_visibility: "world_readable" } },
          { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
        ],
      });
      assertError(await call(server, "POST", `${v3}/peek/${enc(encrypted)}`, { token: bob.access_token }), 403, "M_FORBIDDEN");
      assertError(await call(server, "POST", `${v3}/peek/${enc("!nosuchroom:localhost")}`, { token: bob.access_token }), 404, "M_NOT_FOUND");
      assertError(await call(server, "POST", `${v3}/peek/${enc("#nosuchalias:localhost")}`, { token: bob.access_token }), 404, "M_NOT_FOUND");
      // A room of another server is peeked over federation (MSC2444): one that cannot be reached
      // is a 502 that says so.
      const unreachable = await call(server, "POST", `${v3}/peek/${enc("!elsewhere:remote.example")}?server_name=remote.example`, { token: bob.access_token });
      assertError(unreachable, 502, "M_UNKNOWN");
      assert.match(unreachable.json.error, /Could not peek into !elsewhere:remote.example/);
      assertError(await call(server, "POST", `${v3}/peek/not-a-room`, { token: bob.access_token }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: alice.access_token }), 400, "M_BAD_STATE");
      assertError(await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: bob.access_token, body: { servers: "nope" } }), 400, "M_BAD_JSON");
      assertError(await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: bob.access_token, raw: "{bad" }), 400, "M_NOT_JSON");
      assertError(await call(server, "POST", `${v3}/peek/${enc(room)}`), 401, "M_MISSING_TOKEN");
      assertError(await call(server, "POST", `${v3}/rooms/not-a-room/unpeek`, { token: bob.access_token, body: {} }), 400, "M_INVALID_PARAM");
    });

    await t.test("a peek whose device stops syncing expires: rooms.leave when it comes back", async () => {
      const gina = await register(server, "gina");
      const start = await sync(server, gina);
      await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: gina.access_token });
      const peeked = await syncUntil(server, gina, start.next_batch, (s) => s.rooms.peek?.[room]);
      await new Promise((r) => setTimeout(r, 3500));  // the 2 s lifetime passes without a sync
      const back = await sync(server, gina, peeked.next_batch, 0);
      assert.ok(back.rooms.leave?.[room], JSON.stringify(back.rooms));
      assert.equal(back.rooms.peek?.[room], undefined);

      // The syncapi's peek metrics saw it all.
      const url = server.metricsUrls.syncapi ?? server.metricsUrls.monolith;
      const text = await (await fetch(url)).text();
      const value = (name) => Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m"))?.[1]);
      assert.ok(value("periscope_syncapi_peek_expiries_total") >= 1, "expiries counted");
      assert.ok(value("periscope_syncapi_peeks_started_total") >= 1, "peeks counted");
      assert.ok(value("periscope_syncapi_peek_wakeups_total") >= 1, "wake-ups counted");
      assert.ok(Number.isFinite(value("periscope_syncapi_active_peeks")), "the active-peeks gauge");
      assert.match(text, /periscope_syncapi_peeks_ended_total\{reason="client"\} [1-9]/);
    });

    await t.test("full_state=true resends the peeked room's state; a room leaving world_readable ends its peeks", async () => {
      const hank = await register(server, "hank");
      const open = await createRoom(server, alice, "world_readable");
      const start = await sync(server, hank);
      await call(server, "POST", `${v3}/peek/${enc(open)}`, { token: hank.access_token });
      const peeked = await syncUntil(server, hank, start.next_batch, (s) => s.rooms.peek?.[open]);
      const full = await call(server, "GET", `${v3}/sync?since=${peeked.next_batch}&full_state=true`, { token: hank.access_token });
      assert.equal(full.status, 200, full.text);
      assert.ok(full.json.rooms.peek?.[open]?.state.events.some((e) => e.type === "m.room.create"), "full state");
      const closed = await call(server, "PUT", `${v3}/rooms/${enc(open)}/state/m.room.history_visibility/`, {
        token: alice.access_token, body: { history_visibility: "shared" },
      });
      assert.equal(closed.status, 200, closed.text);
      // The change itself reaches the peeker (in rooms.peek, or in the leave if both come at once).
      const events = [];
      await syncUntil(server, hank, peeked.next_batch, (s) => {
        for (const section of [s.rooms.peek?.[open], s.rooms.leave?.[open]]) {
          for (const e of section?.timeline.events ?? []) events.push(e.type);
        }
        return s.rooms.leave?.[open];
      });
      assert.equal(events.at(-1), "m.room.history_visibility", `the change is the last thing seen: ${events}`);
      assertError(await call(server, "POST", `${v3}/peek/${enc(open)}`, { token: hank.access_token }), 403, "M_FORBIDDEN");
    });

    await t.test("syncapi, then the roomserver, restarted mid-peek: nothing lost, nothing twice", async () => {
      const ivy = await register(server, "ivy");
      const start = await sync(server, ivy);
      await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: ivy.access_token });
      const peeked = await syncUntil(server, ivy, start.next_batch, (s) => s.rooms.peek?.[room]);
      const bodies = [];
      let since = peeked.next_batch;
      const collect = async (want) => {
        for (let i = 0; i < 40 && !bodies.includes(want); i++) {
          let r;
          try { r = await call(server, "GET", `${v3}/sync?since=${since}&timeout=3000`, { token: ivy.access_token }); } catch { r = { status: 0 }; }
          if (r.status !== 200) { await new Promise((res) => setTimeout(res, 250)); continue; }
          since = r.json.next_batch;
          for (const e of r.json.rooms.peek?.[room]?.timeline.events ?? []) if (e.type === "m.room.message") bodies.push(e.content.body);
        }
      };
      const say = async (body) => {
        for (let i = 0; ; i++) {
          const r = await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/${body}`, { token: alice.access_token, body: { msgtype: "m.text", body } });
          if (r.status === 200) return;
          if (i > 40) throw new Error(r.text);
          await new Promise((res) => setTimeout(res, 250));
        }
      };
      await say("r1");
      await collect("r1");
      await server.restartComponents(["syncapi"]);
      await say("r2");
      await collect("r2");
      await server.restartComponents(["roomserver"]);
      await say("r3");
      await collect("r3");
      assert.deepEqual(bodies, ["r1", "r2", "r3"]);
    });

    await t.test("a room becoming encrypted ends its peeks", async () => {
      const jay = await register(server, "jay");
      const open = await createRoom(server, alice, "world_readable");
      const start = await sync(server, jay);
      await call(server, "POST", `${v3}/peek/${enc(open)}`, { token: jay.access_token });
      const peeked = await syncUntil(server, jay, start.next_batch, (s) => s.rooms.peek?.[open]);
      const encrypted = await call(server, "PUT", `${v3}/rooms/${enc(open)}/state/m.room.encryption/`, {
        token: alice.access_token, body: { algorithm: "m.megolm.v1.aes-sha2" },
      });
      assert.equal(encrypted.status, 200, encrypted.text);
      const ended = await syncUntil(server, jay, peeked.next_batch, (s) => s.rooms.leave?.[open]);
      assert.equal(ended.rooms.peek?.[open], undefined);
      const after = await sync(server, jay, ended.next_batch, 0);
      assert.equal(after.rooms.leave?.[open], undefined, "the leave comes once");
      assertError(await call(server, "POST", `${v3}/peek/${enc(open)}`, { token: jay.access_token }), 403, "M_FORBIDDEN");
    });

    await t.test("a /sync whose HTTP client hangs up stops waiting in syncapi at once", async () => {
      const kim = await register(server, "kim");
      const start = await sync(server, kim);
      const url = server.metricsUrls.syncapi ?? server.metricsUrls.monolith;
      const metric = async (name) => {
        const text = await (await fetch(url)).text();
        return Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
      };
      const until = async (what, check) => {
        for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
          if (await check()) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.fail(`timed out waiting until ${what}`);
      };
      const waitingBefore = await metric("periscope_syncapi_waiting_syncs");
      const cancelledBefore = await metric("periscope_syncapi_syncs_cancelled_total");
      const req = http.request({
        host: "127.0.0.1", port: new URL(server.baseUrl).port,
        path: `${v3}/sync?since=${start.next_batch}&timeout=60000`,
        headers: { authorization: `Bearer ${kim.access_token}` },
      });
      req.on("error", () => {});  // the hang-up below
      req.end();
      await until("the sync is parked", async () => (await metric("periscope_syncapi_waiting_syncs")) > waitingBefore);
      req.destroy();
      await until("syncapi lets go of it", async () =>
        (await metric("periscope_syncapi_syncs_cancelled_total")) > cancelledBefore &&
        (await metric("periscope_syncapi_waiting_syncs")) <= waitingBefore);
      // The gateway still serves the user.
      assert.ok((await sync(server, kim, start.next_batch, 0)).next_batch);
    });

    await t.test("peeking too fast is 429 M_LIMIT_EXCEEDED with retry_after_ms", async () => {
      const frank = await register(server, "frank");
      let limited;
      for (let i = 0; i < 40 && !limited; i++) {
        const r = await call(server, "POST", `${v3}/peek/${enc(room)}`, { token: frank.access_token });
        if (r.status === 429) limited = r;
        else assert.equal(r.status, 200, r.text);
      }
      assert.ok(limited, "limited within 40 requests");
      assertError(limited, 429, "M_LIMIT_EXCEEDED");
      assert.ok(limited.json.retry_after_ms > 0);
    });
  });
}
