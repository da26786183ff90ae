// Federation between Periscope servers on loopback: each has its own server name, ports,
// database and self-signed certificate; each trusts exactly the others' certificates (a CA
// bundle) and finds them through federation.servers. A third party, a scripted fake server,
// sends what a misbehaving peer would: unsigned, forged, misaddressed requests and expired keys.

import assert from "node:assert/strict";
import test from "node:test";
import { startFederation, syncUntil } from "./federation_harness.mjs";
import { assertError, call, federationCall, register } from "./http.mjs";
import { newSigningKey, signEvent } from "./fake_server.mjs";

const v3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

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

// The timeline event of `room` in a sync answer whose content body is `body`.
const timelineBody = (room, body) => (sync) =>
  sync.rooms?.join?.[room]?.timeline?.events?.find((e) => e.content?.body === body);

test("federation: users of two servers join one room and talk", async (t) => {
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
  const dave = await register(b, "dave");
  const created = await call(a, "POST", `${v3}/createRoom`, {
    token: alice.access_token,
    body: { preset: "public_chat", name: "Lobby", room_alias_name: "lobby" },
  });
  assert.equal(created.status, 200, created.text);
  const room = created.json.room_id;

  await t.test("bob on B joins A's room through A (make_join, send_join) and both talk", async () => {
    const joined = await call(b, "POST", `${v3}/join/${enc(room)}?server_name=a.periscope.test`, { token: bob.access_token, body: {} });
    assert.equal(joined.status, 200, joined.text);
    assert.equal(joined.json.room_id, room);
    // A counts bob as a member.
    const members = await call(a, "GET", `${v3}/rooms/${enc(room)}/joined_members`, { token: alice.access_token });
    assert.equal(members.status, 200, members.text);
    assert.deepEqual(Object.keys(members.json.joined).sort(), [alice.user_id, bob.user_id].sort());
    // B knows the room's state from the join: its name, and alice in it.
    const name = await call(b, "GET", `${v3}/rooms/${enc(room)}/state/m.room.name`, { token: bob.access_token });
    assert.equal(name.status, 200, name.text);
    assert.equal(name.json.name, "Lobby");

    const fromB = await call(b, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/b1`, { token: bob.access_token, body: { msgtype: "m.text", body: "hello from B" } });
    assert.equal(fromB.status, 200, fromB.text);
    const seenOnA = await syncUntil(a, alice, timelineBody(room, "hello from B"), "B's message on A");
    assert.equal(seenOnA.sender, bob.user_id);
    assert.equal(seenOnA.event_id, fromB.json.event_id);

    const fromA = await call(a, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/a1`, { token: alice.access_token, body: { msgtype: "m.text", body: "hello from A" } });
    assert.equal(fromA.status, 200, fromA.text);
    const seenOnB = await syncUntil(b, bob, timelineBody(room, "hello from A"), "A's message on B");
    assert.equal(seenOnB.sender, alice.user_id);
    // B's sync shows the room's state from the join: alice's membership and the name.
    const initial = await call(b, "GET", `${v3}/sync`, { token: bob.access_token });
    const joinedRoom = initial.json.rooms.join[room];
    const state = [...joinedRoom.state.events, ...joinedRoom.timeline.events];
    assert.ok(state.some((e) => e.type === "m.room.member" && e.state_key === alice.user_id && e.content.membership === "join"), JSON.stringify(joinedRoom));
    assert.ok(state.some((e) => e.type === "m.room.name" && e.content.name === "Lobby"), JSON.stringify(joinedRoom));
    // What the join brought in is state, never timeline: B's timeline starts at bob's join.
    const timelineIds = joinedRoom.timeline.events.map((e) => e.type);
    assert.ok(!timelineIds.includes("m.room.create"), JSON.stringify(joinedRoom.timeline));
    const history = await call(b, "GET", `${v3}/rooms/${enc(room)}/messages?dir=b&limit=50`, { token: bob.access_token });
    assert.equal(history.status, 200, history.text);
    assert.ok(!history.json.chunk.some((e) => e.type === "m.room.create" || e.type === "m.room.name"), history.text);
  });

  await t.test("dave on B joins by A's alias (the alias's server says the room and servers)", async () => {
    const joined = await call(b, "POST", `${v3}/join/${enc("#lobby:a.periscope.test")}`, { token: dave.access_token, body: {} });
    assert.equal(joined.status, 200, joined.text);
    assert.equal(joined.json.room_id, room);
    const fromDave = await call(b, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/d1`, { token: dave.access_token, body: { msgtype: "m.text", body: "dave here" } });
    assert.equal(fromDave.status, 200, fromDave.text);
    await syncUntil(a, alice, timelineBody(room, "dave here"), "dave's message on A");
  });

  await t.test("a private room refuses a remote join: 403, and B keeps nothing of it", async () => {
    const carol = await register(b, "carol");
    const secret = await call(a, "POST", `${v3}/createRoom`, { token: alice.access_token, body: { preset: "private_chat", name: "Secret" } });
    assert.equal(secret.status, 200, secret.text);
    const refused = await call(b, "POST", `${v3}/join/${enc(secret.json.room_id)}?server_name=a.periscope.test`, { token: carol.access_token, body: {} });
    assertError(refused, 403, "M_FORBIDDEN");
    const sync = await call(b, "GET", `${v3}/sync`, { token: carol.access_token });
    assert.equal(sync.json.rooms?.join?.[secret.json.room_id], undefined);
    const name = await call(b, "GET", `${v3}/rooms/${enc(secret.json.room_id)}/state/m.room.name`, { token: carol.access_token });
    assert.notEqual(name.status, 200, name.text);
    // A room no server knows: 404.
    assertError(await call(b, "POST", `${v3}/join/${enc("!nowhere:a.periscope.test")}`, { token: carol.access_token, body: {} }), 404, "M_NOT_FOUND");
  });

  await t.test("make_join and send_join refuse what a server may not ask", async () => {
    const get = (uri) => federationCall(a, "GET", uri, { headers: { authorization: fed.fake.authorization("GET", uri, "a.periscope.test") } });
    const makeJoin = (user, vers = "ver=10&ver=11&ver=12") => `/_matrix/federation/v1/make_join/${enc(room)}/${enc(user)}?${vers}`;
    // A join for another server's user.
    assertError(await get(makeJoin("@mallory:b.periscope.test")), 403, "M_FORBIDDEN");
    // A room version the server does not speak (no ?ver= at all means version 1 only).
    const incompatible = await get(makeJoin("@mallory:evil.periscope.test", ""));
    assertError(incompatible, 400, "M_INCOMPATIBLE_ROOM_VERSION");
    assert.equal(incompatible.json.room_version, "12", "the spec's error names the room's version");
    assertError(await get(`/_matrix/federation/v1/make_join/${enc("!nowhere:a.periscope.test")}/${enc("@m:evil.periscope.test")}?ver=10`), 404, "M_NOT_FOUND");
    // make_leave: only for the server's own users, and only for someone in the room.
    assertError(await get(`/_matrix/federation/v1/make_leave/${enc(room)}/${enc("@bob:b.periscope.test")}`), 403, "M_FORBIDDEN");
    assertError(await get(`/_matrix/federation/v1/make_leave/${enc(room)}/${enc("@mallory:evil.periscope.test")}`), 403, "M_FORBIDDEN");
    // A genuine template, then a join sent back unsigned: refused, and nobody joined.
    const made = await get(makeJoin("@mallory:evil.periscope.test"));
    assert.equal(made.status, 200, made.text);
    assert.equal(made.json.event.state_key, "@mallory:evil.periscope.test");
    const event = { ...made.json.event, origin_server_ts: Date.now(), hashes: { sha256: "x" }, signatures: {} };
    const uri = `/_matrix/federation/v2/send_join/${enc(room)}/${enc("$whatever")}`;
    const sent = await federationCall(a, "PUT", uri, { body: event, headers: { authorization: fed.fake.authorization("PUT", uri, "a.periscope.test", event), "content-type": "application/json" } });
    assert.ok(sent.status === 403 || sent.status === 400, sent.text);
    const members = await call(a, "GET", `${v3}/rooms/${enc(room)}/joined_members`, { token: alice.access_token });
    assert.equal(members.json.joined["@mallory:evil.periscope.test"], undefined);
  });

  await t.test("/v2/invite refuses what a server may not ask, and nobody is invited", async () => {
    const evilRoom = "!plot:evil.periscope.test";
    const invite = (sender, target, extra = {}) => ({
      room_id: evilRoom, type: "m.room.member", sender, state_key: target, origin: "evil.periscope.test",
      content: { membership: "invite" }, prev_events: ["$p"], auth_events: ["$c"], depth: 3,
      origin_server_ts: Date.now(), hashes: { sha256: "x" }, signatures: {}, ...extra,
    });
    const put = (body, eventId = "$e") => {
      const uri = `/_matrix/federation/v2/invite/${enc(evilRoom)}/${enc(eventId)}`;
      return federationCall(b, "PUT", uri, {
        body,
        headers: { authorization: fed.fake.authorization("PUT", uri, "b.periscope.test", body), "content-type": "application/json" },
      });
    };
    const v10 = (event) => ({ room_version: "10", event, invite_room_state: [] });
    // A user of another server than B, or an invite in another server's name.
    assertError(await put(v10(invite("@m:evil.periscope.test", alice.user_id))), 403, "M_FORBIDDEN");
    assertError(await put(v10(invite("@alice:a.periscope.test", bob.user_id))), 403, "M_FORBIDDEN");
    // A room version B does not support; not an invite; no event at all.
    const old = await put({ room_version: "1", event: invite("@m:evil.periscope.test", bob.user_id) });
    assertError(old, 400, "M_INCOMPATIBLE_ROOM_VERSION");
    assert.equal(old.json.room_version, "1");
    assertError(await put(v10(invite("@m:evil.periscope.test", bob.user_id, { content: { membership: "join" } }))), 400, "M_BAD_JSON");
    assertError(await put({ room_version: "10" }), 400, "M_BAD_JSON");
    assertError(await put({ room_version: "10", event: invite("@m:evil.periscope.test", bob.user_id), invite_room_state: "x" }), 400, "M_BAD_JSON");
    // Unsigned by its server: refused.
    const unsigned = await put(v10(invite("@m:evil.periscope.test", bob.user_id)));
    assert.ok(unsigned.status === 403 || unsigned.status === 400, unsigned.text);
    // Bob was invited to nothing.
    const synced = await call(b, "GET", `${v3}/sync?timeout=0`, { token: bob.access_token });
    assert.equal(synced.status, 200, synced.text);
    assert.equal(synced.json.rooms?.invite?.[evilRoom], undefined);
  });

  await t.test("an invite from a server that then cannot be asked is still rejected (locally)", async () => {
    const ghostRoom = "!ghost:evil.periscope.test";
    const { event, eventId } = signEvent({
      room_id: ghostRoom, type: "m.room.member", sender: "@m:evil.periscope.test", state_key: bob.user_id,
      origin: "evil.periscope.test", content: { membership: "invite" }, prev_events: ["$p"], auth_events: ["$c"],
      depth: 3, origin_server_ts: Date.now(),
    }, "evil.periscope.test", fed.fake.key);
    const body = {
      room_version: "10", event,
      invite_room_state: [{ type: "m.room.name", state_key: "", sender: "@m:evil.periscope.test", content: { name: "Ghost" } }],
    };
    const uri = `/_matrix/federation/v2/invite/${enc(ghostRoom)}/${enc(eventId)}`;
    const invited = await federationCall(b, "PUT", uri, {
      body, headers: { authorization: fed.fake.authorization("PUT", uri, "b.periscope.test", body), "content-type": "application/json" },
    });
    assert.equal(invited.status, 200, invited.text);
    assert.ok(invited.json.event.signatures["b.periscope.test"], "B signed the invite");
    const seen = await syncUntil(b, bob, (s) => s.rooms?.invite?.[ghostRoom], "the invite");
    const names = seen.invite_state.events.filter((e) => e.type === "m.room.name");
    assert.equal(names[0]?.content.name, "Ghost");
    // evil answers no make_leave: B rejects it by itself, and the invite leaves bob's /sync.
    const before = await call(b, "GET", `${v3}/sync?timeout=0`, { token: bob.access_token });
    const left = await call(b, "POST", `${v3}/rooms/${enc(ghostRoom)}/leave`, { token: bob.access_token, body: {} });
    assert.equal(left.status, 200, left.text);
    let rejected;
    for (let since = before.json.next_batch, i = 0; !rejected && i < 15; i++) {
      const r = await call(b, "GET", `${v3}/sync?timeout=2000&since=${enc(since)}`, { token: bob.access_token });
      assert.equal(r.status, 200, r.text);
      rejected = r.json.rooms?.leave?.[ghostRoom];
      since = r.json.next_batch;
    }
    assert.ok(rejected, "the rejection reached bob's /sync");
    const after = await call(b, "GET", `${v3}/sync?timeout=0`, { token: bob.access_token });
    assert.equal(after.json.rooms?.invite?.[ghostRoom], undefined);
  });
});
