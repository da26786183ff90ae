// Federated peeking (MSC2444), the peeked side: a scripted peer (the fake server, which signs its
// requests with X-Matrix and records the /send transactions it receives) peeks world-readable
// rooms on a Periscope server. What must hold: every refusal the MSC names, both answer shapes,
// every event after the snapshot relayed exactly once and in order (even with sends racing the
// PUT), none after a DELETE, and eviction or a visibility change told with expired_peeks.

import assert from "node:assert/strict";
import test from "node:test";
import { startFederation } from "./federation_harness.mjs";
import { assertError, call, federationCall, register } from "./http.mjs";

const v3 = "/_matrix/client/v3";
const enc = encodeURIComponent;
const A = "a.periscope.test";
const VERSIONS = Array.from({ length: 12 }, (_, i) => `ver=${i + 1}`).join("&");

async function createRoom(server, who, visibility, extra = {}) {
  const { initial_state: more = [], ...rest } = extra;
  const r = await call(server, "POST", `${v3}/createRoom`, {
    token: who.access_token,
    body: {
      preset: "public_chat",
      initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: visibility } }, ...more],
      ...rest,
    },
  });
  assert.equal(r.status, 200, r.text);
  return r.json.room_id;
}

async function send(server, who, room, body) {
  const r = await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/${Math.random().toString(36).slice(2)}`, {
    token: who.access_token, body: { msgtype: "m.text", body },
  });
  assert.equal(r.status, 200, r.text);
  return r.json.event_id;
}

// Registers `n` users on `server` and joins them to `room`.
async function joinSenders(server, room, n) {
  const senders = [];
  for (let i = 0; i < n; i++) {
    const user = await register(server, `sender${i}`);
    const joined = await call(server, "POST", `${v3}/join/${enc(room)}`, { token: user.access_token, body: {} });
    assert.equal(joined.status, 200, joined.text);
    senders.push(user);
  }
  return senders;
}

async function waitFor(what, found, ms = 20000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const hit = found();
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("federated peeking, inbound: another server peeks our world-readable rooms", async (t) => {
  const fed = await startFederation([
    { name: A, mode: "monolith", env: { PERISCOPE_PEEKING__FEDERATION_RENEWAL_INTERVAL: "3s", PERISCOPE_PEEKING__MAX_INBOUND_PEEKS_PER_SERVER: "6",
      PERISCOPE_PEEKING__INBOUND_RATE_LIMIT_BURST: "1000" } },
  ]);
  t.after(() => fed.destroy());
  const a = fed.servers[A];
  const peer = fed.fake;
  t.afterEach((ctx) => { if (ctx.failed) console.log(a.logs()); });

  // A signed request from the peer to A.
  const signed = (method, path, body) => federationCall(a, method, path, {
    body, headers: { authorization: peer.authorization(method, path, A, body) },
  });
  const peekPath = (room, id, query = VERSIONS) => `/_matrix/federation/v1/peek/${enc(room)}/${enc(id)}${query ? `?${query}` : ""}`;
  const peek = (room, id, query) => signed("PUT", peekPath(room, id, query), {});
  // The message bodies the peer received in `room`, in the order they came.
  const relayed = (room) => peer.transactions.flatMap((txn) => (txn.body.pdus ?? [])
    .filter((p) => p.room_id === room && p.type === "m.room.message").map((p) => p.content.body));
  const expiredTold = () => peer.transactions.flatMap((txn) => txn.body.expired_peeks ?? []);

  const alice = await register(a, "alice");
  const room = await createRoom(a, alice, "world_readable");
  const before = await send(a, alice, room, "before the peek");

  await t.test("refusals: bad peek id, unknown room, versions, visibility, encryption, ACL, signature", async () => {
    assertError(await peek(room, "waytoolongid"), 400, "M_UNRECOGNIZED");
    assertError(await peek(room, "bad/id"), 400, "M_UNRECOGNIZED");
    assertError(await peek(`!nope:${A}`, "p1"), 404, "M_NOT_FOUND");
    const incompatible = await peek(room, "p1", "ver=1&ver=2");
    assertError(incompatible, 400, "M_INCOMPATIBLE_ROOM_VERSION");
    assertError(await peek(room, "p1", ""), 400, "M_INCOMPATIBLE_ROOM_VERSION"); // no ver: version 1 only
    for (const visibility of ["shared", "invited", "joined"]) {
      assertError(await peek(await createRoom(a, alice, visibility), "p1"), 403, "M_FORBIDDEN");
    }
    const encrypted = await createRoom(a, alice, "world_readable", {
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    assertError(await peek(encrypted, "p1"), 403, "M_FORBIDDEN");
    const denied = await createRoom(a, alice, "world_readable", {
      initial_state: [{ type: "m.room.server_acl", state_key: "", content: { allow: ["*"], deny: ["evil.periscope.test"] } }],
    });
    assertError(await peek(denied, "p1"), 403, "M_FORBIDDEN");
    assertError(await federationCall(a, "PUT", peekPath(room, "p1"), { body: {} }), 401, "M_UNAUTHORIZED");
    assertError(await signed("POST", `/_matrix/federation/v1/peek/${enc(room)}/never/renew`, {}), 404, "M_NOT_FOUND");
    assertError(await signed("DELETE", `/_matrix/federation/v1/peek/${enc(room)}/never`), 404, "M_NOT_FOUND");
  });

  let snapshot;
  await t.test("the answer has MSC2444's fields and Dendrite's, every event signed with its auth chain", async () => {
    const r = await peek(room, "main");
    assert.equal(r.status, 200, r.text);
    snapshot = r.json;
    assert.equal(snapshot.renewal_interval, 3000);
    assert.equal(snapshot.room_version, "12"); // the default version of new rooms
    // Dendrite's shape: the latest event is the message sent before the peek; state holds the room's.
    assert.equal(snapshot.latest_event.content.body, "before the peek");
    const stateTypes = new Set(snapshot.state.map((e) => e.type));
    for (const type of ["m.room.create", "m.room.power_levels", "m.room.join_rules", "m.room.history_visibility", "m.room.member"]) {
      assert.ok(stateTypes.has(type), `state has ${type}`);
    }
    // Auth events that are not state themselves (none here: the state authorises itself).
    assert.ok(Array.isArray(snapshot.auth_chain));
    // MSC-final: keyed by the forward extremity (here the message), every id backed by an event.
    assert.deepEqual(Object.keys(snapshot.latest_event_state_ids), [before]);
    const ids = [...snapshot.common_state_ids, ...Object.values(snapshot.latest_event_state_ids).flat()];
    assert.equal(ids.length, snapshot.state.length);
    const bodies = snapshot.events.filter((e) => e.type !== "m.room.message");
    assert.ok(bodies.length >= ids.length, "events holds at least the state");
    for (const e of [...snapshot.events, ...snapshot.state, snapshot.latest_event]) {
      assert.ok(e.signatures?.[A], `signed by ${A}`);
      assert.equal(e.unsigned, undefined, "no unsigned over federation");
    }
  });

  await t.test("every later event is relayed once, in order; POST renew keeps the peek", async () => {
    for (const body of ["one", "two", "three"]) await send(a, alice, room, body);
    await waitFor("the relay", () => relayed(room).length >= 3);
    const renewed = await signed("POST", `/_matrix/federation/v1/peek/${enc(room)}/main/renew`, {});
    assert.equal(renewed.status, 200, renewed.text);
    assert.deepEqual(renewed.json, { renewal_interval: 3000 });
    await send(a, alice, room, "four");
    await waitFor("four", () => relayed(room).includes("four"));
    assert.deepEqual(relayed(room), ["one", "two", "three", "four"]);
  });

  await t.test("a repeated PUT renews the same peek and answers the snapshot again; nothing is doubled", async () => {
    const again = await peek(room, "main");
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.latest_event.content.body, "four");
    await send(a, alice, room, "five");
    await waitFor("five", () => relayed(room).includes("five"));
    assert.deepEqual(relayed(room), ["one", "two", "three", "four", "five"]);
  });

  await t.test("DELETE ends the peek: no more relays, and a second DELETE is 404", async () => {
    const gone = await signed("DELETE", `/_matrix/federation/v1/peek/${enc(room)}/main`);
    assert.equal(gone.status, 200, gone.text);
    assert.deepEqual(gone.json, {});
    assertError(await signed("DELETE", `/_matrix/federation/v1/peek/${enc(room)}/main`), 404, "M_NOT_FOUND");
    // A peek of another room, started after the DELETE, shows when A's relay has caught up.
    const marker = await createRoom(a, alice, "world_readable");
    assert.equal((await peek(marker, "mark")).status, 200);
    await send(a, alice, room, "after the delete");
    await send(a, alice, marker, "marker");
    await waitFor("the marker", () => relayed(marker).includes("marker"));
    assert.ok(!relayed(room).includes("after the delete"));
    assert.equal((await signed("DELETE", `/_matrix/federation/v1/peek/${enc(marker)}/mark`)).status, 200);
  });

  await t.test("a peek not renewed within its interval is evicted and told with expired_peeks", async () => {
    const lapsing = await createRoom(a, alice, "world_readable");
    assert.equal((await peek(lapsing, "lapse")).status, 200);
    const told = await waitFor("expired_peeks", () => expiredTold().find((p) => p.room_id === lapsing), 15000);
    assert.deepEqual(told, { room_id: lapsing, peek_id: "lapse" });
    assertError(await signed("POST", `/_matrix/federation/v1/peek/${enc(lapsing)}/lapse/renew`, {}), 404, "M_NOT_FOUND");
  });

  await t.test("a room that stops being world_readable ends its peeks, after relaying that change", async () => {
    const closing = await createRoom(a, alice, "world_readable");
    assert.equal((await peek(closing, "vis")).status, 200);
    const r = await call(a, "PUT", `${v3}/rooms/${enc(closing)}/state/m.room.history_visibility/`, {
      token: alice.access_token, body: { history_visibility: "shared" },
    });
    assert.equal(r.status, 200, r.text);
    const told = await waitFor("expired_peeks", () => expiredTold().find((p) => p.room_id === closing));
    assert.deepEqual(told, { room_id: closing, peek_id: "vis" });
    assertError(await peek(closing, "vis"), 403, "M_FORBIDDEN");
  });

  await t.test("gap-free: 1,000 messages from 10 senders racing the PUT reach the peer exactly once, in order", async () => {
    const race = await createRoom(a, alice, "world_readable");
    const senders = await joinSenders(a, race, 10);
    const sending = Promise.all(senders.map(async (user, i) => {
      for (let n = 0; n < 100; n++) await send(a, user, race, `s${i}-${n}`);
    }));
    await new Promise((r) => setTimeout(r, 300)); // let the senders get going
    const started = await peek(race, "race");
    assert.equal(started.status, 200, started.text);
    // The peer keeps its peek alive while the senders go on (the interval is 3 s here).
    let sent = false;
    const renewing = (async () => {
      while (!sent) {
        await new Promise((r) => setTimeout(r, 1000));
        const renewed = await signed("POST", `/_matrix/federation/v1/peek/${enc(race)}/race/renew`, {});
        assert.equal(renewed.status, 200, renewed.text);
      }
    })();
    await sending;
    sent = true;
    await renewing;
    const [latest] = Object.keys(started.json.latest_event_state_ids);
    // A's own order of the room's messages, newest first, back to the snapshot's latest event.
    const after = [];
    let from;
    for (let done = false; !done;) {
      const page = await call(a, "GET", `${v3}/rooms/${enc(race)}/messages?dir=b&limit=100${from ? `&from=${enc(from)}` : ""}`, { token: alice.access_token });
      assert.equal(page.status, 200, page.text);
      for (const e of page.json.chunk) {
        if (e.event_id === latest) { done = true; break; }
        if (e.type === "m.room.message") after.unshift(e.content.body);
      }
      if (!page.json.end || page.json.chunk.length === 0) done = true;
      from = page.json.end;
    }
    assert.ok(after.length > 0 && after.length < 1000, `the peek began mid-stream (${after.length} after it)`);
    // Until the peer has as many as A placed after the snapshot, or nothing more comes for 3 s;
    // then a little longer, for anything doubled.
    let seen = -1;
    let still = 0;
    while (relayed(race).length < after.length && still < 60) {
      still = relayed(race).length === seen ? still + 1 : 0;
      seen = relayed(race).length;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(relayed(race), after);
    assert.equal((await signed("DELETE", `/_matrix/federation/v1/peek/${enc(race)}/race`)).status, 200);
  });

  await t.test("one server may hold only so many peeks (429 M_LIMIT_EXCEEDED)", async () => {
    const rooms = [];
    for (let i = 0; i < 7; i++) rooms.push(await createRoom(a, alice, "world_readable"));
    const answers = [];
    for (const r of rooms) answers.push(await peek(r, "cap"));
    // Every earlier peek has ended: 6 is the cap.
    assert.equal(answers.filter((r) => r.status === 200).length, 6, answers.map((r) => r.status).join());
    assertError(answers[6], 429, "M_LIMIT_EXCEEDED");
    assert.equal(typeof answers[6].json.retry_after_ms, "number");
  });
});

// A server's gauge, from its federationsender's (or the monolith's) metrics.
async function gauge(server, name) {
  const url = server.metricsUrls.federationsender ?? server.metricsUrls.monolith;
  const text = await (await fetch(url)).text();
  return Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
}

async function until(what, check, ms = 20000) {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting until ${what}`);
}

// Syncs `who` (from `state.since`) until `found(sync)` gives something; keeps the token.
async function syncFor(server, who, state, found, what, ms = 30000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const q = state.since ? `?timeout=1000&since=${enc(state.since)}` : "?timeout=0";
    const r = await call(server, "GET", `${v3}/sync${q}`, { token: who.access_token });
    assert.equal(r.status, 200, r.text);
    state.since = r.json.next_batch;
    const hit = found(r.json);
    if (hit) return hit;
  }
  assert.fail(`timed out waiting for ${what}`);
}

const bodies = (room) => (room?.timeline?.events ?? []).filter((e) => e.type === "m.room.message").map((e) => e.content.body);

test("federated peeking, outbound: users of B peek a room on A and see what C says in it", async (t) => {
  const fed = await startFederation([
    { name: A, mode: "monolith", env: { PERISCOPE_PEEKING__FEDERATION_RENEWAL_INTERVAL: "3s" } },
    { name: "b.periscope.test", mode: "mesh" },
    { name: "c.periscope.test", mode: "monolith" },
  ]);
  t.after(() => fed.destroy());
  const a = fed.servers[A];
  const b = fed.servers["b.periscope.test"];
  const c = fed.servers["c.periscope.test"];
  t.afterEach((ctx) => { if (ctx.failed) console.log(a.logs(), b.logs()); });

  const alice = await register(a, "alice");
  const bob = await register(b, "bob");
  const carol = await register(c, "carol");
  const room = await createRoom(a, alice, "world_readable");
  await send(a, alice, room, "history");
  const joined = await call(c, "POST", `${v3}/join/${enc(room)}?server_name=${A}`, { token: carol.access_token, body: {} });
  assert.equal(joined.status, 200, joined.text);
  const phone = {};

  await t.test("B's device peeks A's room: the state and the latest event first, then every new event", async () => {
    assertError(await call(b, "POST", `${v3}/peek/${enc(`!nope:${A}`)}`, { token: bob.access_token, body: { servers: [A] } }), 404, "M_NOT_FOUND");
    const closed = await createRoom(a, alice, "shared");
    assertError(await call(b, "POST", `${v3}/peek/${enc(closed)}`, { token: bob.access_token, body: { servers: [A] } }), 403, "M_FORBIDDEN");
    const r = await call(b, "POST", `${v3}/peek/${enc(room)}`, { token: bob.access_token, body: { servers: [A] } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.room_id, room);
    const first = await syncFor(b, bob, phone, (s) => s.rooms?.peek?.[room], "the peeked room");
    const types = new Set(first.state.events.map((e) => e.type));
    assert.ok(types.has("m.room.create") && types.has("m.room.history_visibility"), [...types].join());
    await send(a, alice, room, "live from A");
    await syncFor(b, bob, phone, (s) => bodies(s.rooms?.peek?.[room]).includes("live from A"), "A's message");
    await send(c, carol, room, "from C");
    await syncFor(b, bob, phone, (s) => bodies(s.rooms?.peek?.[room]).includes("from C"), "C's message, relayed by A");
  });

  await t.test("a second device of B shares the peek; renewals keep it alive past its interval", async () => {
    const login = await call(b, "POST", `${v3}/login`, {
      body: { type: "m.login.password", identifier: { type: "m.id.user", user: "bob" }, password: "pw" },
    });
    assert.equal(login.status, 200, login.text);
    const laptop = login.json;
    const r = await call(b, "POST", `${v3}/peek/${enc(room)}`, { token: laptop.access_token, body: { servers: [A] } });
    assert.equal(r.status, 200, r.text);
    // (Gauges are updated each second.)
    await until("one peek of B on A", async () => (await gauge(a, "periscope_federation_inbound_peeks")) === 1);
    await until("one outbound peek on B", async () => (await gauge(b, "periscope_federation_outbound_peeks")) === 1);
    // Three intervals of A's (3 s): without renewals A would have evicted the peek.
    await new Promise((r) => setTimeout(r, 9000));
    await send(a, alice, room, "after renewals");
    await syncFor(b, bob, phone, (s) => bodies(s.rooms?.peek?.[room]).includes("after renewals"), "the message after renewals");
    assert.equal(await gauge(a, "periscope_federation_inbound_peeks"), 1);
    phone.laptop = laptop;
  });

  await t.test("when B's last device unpeeks, B DELETEs the peek on A", async () => {
    for (const token of [bob.access_token, phone.laptop.access_token]) {
      const r = await call(b, "POST", `${v3}/rooms/${enc(room)}/unpeek`, { token, body: {} });
      assert.equal(r.status, 200, r.text);
    }
    // A DELETE, not an eviction: A counted it.
    const unpeeks = async () => Number((await (await fetch(a.metricsUrls.monolith)).text())
      .match(/^periscope_federation_peek_requests_total\{direction="inbound",outcome="ok",request="unpeek"\} (\S+)$/m)?.[1]);
    await until("A answered B's DELETE", async () => (await unpeeks()) === 1);
    await until("A has no peek of B left", async () => (await gauge(a, "periscope_federation_inbound_peeks")) === 0);
    await syncFor(b, bob, phone, (s) => s.rooms?.leave?.[room], "the room in leave");
  });

  await t.test("A ending the peek (the room stops being world_readable) moves the room to B's leave", async () => {
    const other = await createRoom(a, alice, "world_readable");
    const r = await call(b, "POST", `${v3}/peek/${enc(other)}`, { token: bob.access_token, body: { servers: [A] } });
    assert.equal(r.status, 200, r.text);
    await syncFor(b, bob, phone, (s) => s.rooms?.peek?.[other], "the second peeked room");
    const closing = await call(a, "PUT", `${v3}/rooms/${enc(other)}/state/m.room.history_visibility/`, {
      token: alice.access_token, body: { history_visibility: "shared" },
    });
    assert.equal(closing.status, 200, closing.text);
    await syncFor(b, bob, phone, (s) => s.rooms?.leave?.[other], "the room in leave after expired_peeks");
    await until("B forgot its peek", async () => (await gauge(b, "periscope_federation_outbound_peeks")) === 0);
  });

  await t.test("peek, then join: make_join/send_join, the room moves from peek to join, the peek is DELETEd", async () => {
    const r = await call(b, "POST", `${v3}/peek/${enc(room)}`, { token: bob.access_token, body: { servers: [A] } });
    assert.equal(r.status, 200, r.text);
    await syncFor(b, bob, phone, (s) => s.rooms?.peek?.[room], "the peeked room again");
    await until("A has B's peek", async () => (await gauge(a, "periscope_federation_inbound_peeks")) === 1);
    const joinedB = await call(b, "POST", `${v3}/join/${enc(room)}?server_name=${A}`, { token: bob.access_token, body: {} });
    assert.equal(joinedB.status, 200, joinedB.text);
    // The join continues the room the device already has: its own join in the timeline, and none
    // of the state it was sent with the peek again (the send_join answer names it all).
    const moved = await syncFor(b, bob, phone, (s) => s.rooms?.join?.[room], "the room in join");
    assert.ok((moved.timeline?.events ?? []).some((e) => e.type === "m.room.member" && e.state_key === bob.user_id && e.content.membership === "join"),
      JSON.stringify(moved.timeline));
    assert.deepEqual((moved.state?.events ?? []).map((e) => e.type), [], "no state resent");
    assert.equal(moved.timeline?.limited, false);
    assert.ok(!(await syncFor(b, bob, phone, (s) => s, "a sync")).rooms?.peek?.[room], "no longer in peek");
    await send(a, alice, room, "after the join");
    await syncFor(b, bob, phone, (s) => bodies(s.rooms?.join?.[room]).includes("after the join"), "A's message, as a member");
    await until("B's peek DELETEd on A", async () => (await gauge(a, "periscope_federation_inbound_peeks")) === 0);
  });

  await t.test("B's device peeks by A's alias: A's directory names the room, and A is asked", async () => {
    const named = await createRoom(a, alice, "world_readable", { room_alias_name: "readable" });
    await send(a, alice, named, "under an alias");
    const r = await call(b, "POST", `${v3}/peek/${enc(`#readable:${A}`)}`, { token: bob.access_token, body: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.room_id, named);
    await syncFor(b, bob, phone, (s) => bodies(s.rooms?.peek?.[named]).includes("under an alias"), "the room peeked by alias");
    await until("A has B's alias peek", async () => (await gauge(a, "periscope_federation_inbound_peeks")) === 1);
    assertError(await call(b, "POST", `${v3}/peek/${enc(`#nothing:${A}`)}`, { token: bob.access_token, body: {} }), 404, "M_NOT_FOUND");
    const off = await call(b, "POST", `${v3}/rooms/${enc(named)}/unpeek`, { token: bob.access_token, body: {} });
    assert.equal(off.status, 200, off.text);
    await syncFor(b, bob, phone, (s) => s.rooms?.leave?.[named], "the alias-peeked room in leave");
    await until("B's alias peek DELETEd on A", async () => (await gauge(a, "periscope_federation_inbound_peeks")) === 0);
  });
});

test("federated peeking: gap-free to B across restarts, and the peek ends when the device stops syncing", async (t) => {
  const fed = await startFederation([
    // (An interval longer than A's federationsender takes to restart: one shorter would rightly
    // evict B's peek while its renewals cannot be answered.)
    { name: A, mode: "mesh", env: { PERISCOPE_PEEKING__FEDERATION_RENEWAL_INTERVAL: "20s" } },
    { name: "b.periscope.test", mode: "mesh", env: { PERISCOPE_PEEKING__LOCAL_PEEK_LIFETIME: "4s" } },
  ]);
  t.after(() => fed.destroy());
  const a = fed.servers[A];
  const b = fed.servers["b.periscope.test"];
  t.afterEach((ctx) => { if (ctx.failed) console.log(a.logs(), b.logs()); });
  const alice = await register(a, "alice");
  const bob = await register(b, "bob");
  const room = await createRoom(a, alice, "world_readable");
  const senders = await joinSenders(a, room, 10);

  // A room's messages as `who` reads them on `server` with /messages, oldest first.
  const messagesOf = async (server, who) => {
    const out = [];
    let from;
    for (;;) {
      const page = await call(server, "GET", `${v3}/rooms/${enc(room)}/messages?dir=b&limit=100${from ? `&from=${enc(from)}` : ""}`, { token: who.access_token });
      assert.equal(page.status, 200, page.text);
      for (const e of page.json.chunk) if (e.type === "m.room.message") out.unshift(e.content.body);
      if (!page.json.end || page.json.chunk.length === 0) return out;
      from = page.json.end;
    }
  };

  await t.test("1,000 messages from 10 senders racing the peek, A's federationsender and B's syncapi restarted: each after the snapshot reaches B once, in order", async () => {
    // The device keeps syncing (its peek lives 4 s past its last /sync here).
    let syncing = true;
    const keepAlive = (async () => {
      const state = {};
      while (syncing) {
        const q = state.since ? `?timeout=1000&since=${enc(state.since)}` : "?timeout=0";
        const r = await call(b, "GET", `${v3}/sync${q}`, { token: bob.access_token }).catch(() => undefined);
        if (r?.status === 200) state.since = r.json.next_batch;
        else await new Promise((res) => setTimeout(res, 200));
      }
    })();
    let sent = 0;
    const sending = Promise.all(senders.map(async (user, i) => {
      for (let n = 0; n < 100; n++) {
        await send(a, user, room, `s${i}-${n}`);
        sent++;
      }
    }));
    while (sent < 200) await new Promise((r) => setTimeout(r, 10));
    const peeked = await call(b, "POST", `${v3}/peek/${enc(room)}`, { token: bob.access_token, body: { servers: [A] } });
    assert.equal(peeked.status, 200, peeked.text);
    while (sent < 500) await new Promise((r) => setTimeout(r, 10));
    await a.restartComponents(["federationsender"]);
    while (sent < 800) await new Promise((r) => setTimeout(r, 10));
    await b.restartComponents(["syncapi"]);
    await sending;
    const all = await messagesOf(a, alice);
    assert.equal(all.length, 1000);
    // B's device reads the room as B holds it: the snapshot's latest event, then every relayed one.
    let seen = [];
    await until("B has A's last message", async () => {
      // (B's gateway reconnects to the restarted syncapi: a 503 meanwhile is tried again.)
      seen = await messagesOf(b, bob).catch(() => []);
      return seen.at(-1) === all.at(-1);
    }, 60000);
    const start = all.indexOf(seen[0]);
    assert.ok(start > 0 && start < 1000, `the peek began mid-stream (at ${start})`);
    assert.deepEqual(seen, all.slice(start));
    syncing = false;
    await keepAlive;
    // And the device's /sync shows the room up to date.
    const latest = await syncFor(b, bob, {}, (s) => s.rooms?.peek?.[room], "the peeked room");
    assert.equal(bodies(latest).at(-1), all.at(-1));
  });

  await t.test("the device stops syncing: its peek expires on B, and B DELETEs the peek on A", async () => {
    await until("A has B's peek", async () => (await gauge(a, "periscope_federation_inbound_peeks")) === 1);
    // Nobody syncs now: after B's local_peek_lifetime (4 s) B's syncapi retires the peek.
    await until("B's peek is gone from A", async () => (await gauge(a, "periscope_federation_inbound_peeks")) === 0, 30000);
    const text = await (await fetch(a.metricsUrls.federationapi)).text();
    assert.match(text, /^periscope_federation_peek_requests_total\{direction="inbound",outcome="ok",request="unpeek"\} 1$/m, "a DELETE, not an eviction");
  });
});
