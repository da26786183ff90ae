// Rooms end to end (the roomserver's half of issue 4): matrix-js-sdk creates rooms; members join,
// invite, kick, ban and unban; messages and state go through the gateway and the roomserver's auth
// rules; retried sends are idempotent; bad input gets its Matrix error. Monolith and mesh.

import assert from "node:assert/strict";
import test from "node:test";
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { startPeriscope } from "./harness.mjs";
import { assertError, call, register } from "./http.mjs";

logger.setLevel("warn");

const v3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

for (const mode of ["monolith", "mesh"]) {
  test(`rooms (${mode})`, async (t) => {
    const server = await startPeriscope({ mode });
    t.after(() => server.destroy());
    t.afterEach((ctx) => { if (ctx.failed) console.log(server.logs()); });

    const alice = await register(server, "alice");
    const bob = await register(server, "bob");
    const sdkAlice = sdk.createClient({
      baseUrl: server.baseUrl, accessToken: alice.access_token, userId: alice.user_id, deviceId: alice.device_id,
    });
    const send = (who, room, body, txn) =>
      call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/${txn}`, { token: who.access_token, body });

    await t.test("create, invite, join, talk, kick, ban, unban", async () => {
      const { room_id: room } = await sdkAlice.createRoom({ name: "Private", preset: "private_chat" });
      assert.match(room, /^![A-Za-z0-9_-]{43}$/, "room version 12 (the default): named by its create event");

      assertError(await call(server, "POST", `${v3}/rooms/${enc(room)}/join`, { token: bob.access_token }), 403, "M_FORBIDDEN");
      await sdkAlice.invite(room, bob.user_id);
      const joined = await call(server, "POST", `${v3}/join/${enc(room)}`, { token: bob.access_token, body: {} });
      assert.equal(joined.status, 200, joined.text);
      assert.equal(joined.json.room_id, room);

      const first = await send(bob, room, { msgtype: "m.text", body: "hello" }, "txn1");
      assert.equal(first.status, 200, first.text);
      assert.match(first.json.event_id, /^\$[A-Za-z0-9_-]{43}$/);
      const retried = await send(bob, room, { msgtype: "m.text", body: "hello" }, "txn1");
      assert.equal(retried.json.event_id, first.json.event_id, "a retried PUT returns the same event");
      const { event_id: aliceEvent } = await sdkAlice.sendEvent(room, "m.room.message", { msgtype: "m.text", body: "hi bob" }, "a1");
      assert.ok(aliceEvent);

      const topic = await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.room.topic`, {
        token: bob.access_token, body: { topic: "bob's topic" },
      });
      assertError(topic, 403, "M_FORBIDDEN");  // state_default 50, bob has 0
      assert.match(topic.json.error, /auth rule 7/);
      const aliceTopic = await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.room.topic/`, {
        token: alice.access_token, body: { topic: "alice's topic" },
      });
      assert.equal(aliceTopic.status, 200, aliceTopic.text);

      const redact = await call(server, "PUT", `${v3}/rooms/${enc(room)}/redact/${enc(aliceEvent)}/r1`, { token: bob.access_token, body: {} });
      assertError(redact, 403, "M_FORBIDDEN");
      const ownRedact = await call(server, "PUT", `${v3}/rooms/${enc(room)}/redact/${enc(first.json.event_id)}/r2`, { token: bob.access_token, body: { reason: "typo" } });
      assert.equal(ownRedact.status, 200, ownRedact.text);

      assertError(await call(server, "POST", `${v3}/rooms/${enc(room)}/kick`, { token: bob.access_token, body: { user_id: alice.user_id } }), 403, "M_FORBIDDEN");
      await sdkAlice.kick(room, bob.user_id, "bye");
      assertError(await send(bob, room, { body: "still here?" }, "txn2"), 403, "M_FORBIDDEN");
      await sdkAlice.ban(room, bob.user_id);
      const rejoin = await call(server, "POST", `${v3}/join/${enc(room)}`, { token: bob.access_token });
      assertError(rejoin, 403, "M_FORBIDDEN");
      assert.match(rejoin.json.error, /banned/);
      await sdkAlice.unban(room, bob.user_id);
      assertError(await call(server, "POST", `${v3}/rooms/${enc(room)}/unban`, { token: alice.access_token, body: { user_id: bob.user_id } }), 403, "M_FORBIDDEN");
    });

    await t.test("public rooms are joined by alias; leaving works once", async () => {
      const { room_id: room } = await sdkAlice.createRoom({ preset: "public_chat", room_alias_name: "lobby" });
      const joined = await call(server, "POST", `${v3}/join/${enc("#lobby:localhost")}`, { token: bob.access_token });
      assert.equal(joined.status, 200, joined.text);
      assert.equal(joined.json.room_id, room);
      assertError(await call(server, "POST", `${v3}/createRoom`, { token: alice.access_token, body: { room_alias_name: "lobby" } }), 400, "M_ROOM_IN_USE");
      assert.equal((await call(server, "POST", `${v3}/rooms/${enc(room)}/leave`, { token: bob.access_token })).status, 200);
      assertError(await call(server, "POST", `${v3}/rooms/${enc(room)}/leave`, { token: bob.access_token }), 403, "M_FORBIDDEN");
    });

    await t.test("members read the room: state, members, joined members, events, joined rooms", async () => {
      const { room_id: room } = await sdkAlice.createRoom({ preset: "public_chat", name: "Readable", topic: "t" });
      await call(server, "POST", `${v3}/join/${enc(room)}`, { token: bob.access_token });
      const sent = await send(alice, room, { msgtype: "m.text", body: "read me" }, "read1");
      const base = `${v3}/rooms/${enc(room)}`;

      const state = await call(server, "GET", `${base}/state`, { token: bob.access_token });
      assert.equal(state.status, 200, state.text);
      const types = state.json.map((e) => e.type);
      for (const type of ["m.room.create", "m.room.power_levels", "m.room.join_rules", "m.room.name", "m.room.topic"]) {
        assert.ok(types.includes(type), `${type} in ${types}`);
      }
      assert.ok(state.json.every((e) => e.event_id && !e.auth_events), "client format with ids");

      const name = await call(server, "GET", `${base}/state/m.room.name`, { token: bob.access_token });
      assert.deepEqual(name.json, { name: "Readable" });
      const creator = await call(server, "GET", `${base}/state/m.room.member/${enc(alice.user_id)}`, { token: bob.access_token });
      assert.deepEqual(creator.json, { membership: "join", displayname: "alice" }, "the creator's join carries the profile");
      const nameWithSlash = await call(server, "GET", `${base}/state/m.room.name/`, { token: bob.access_token });
      assert.deepEqual(nameWithSlash.json, { name: "Readable" });
      const aliceMember = await call(server, "GET", `${base}/state/m.room.member/${enc(alice.user_id)}`, { token: bob.access_token });
      assert.equal(aliceMember.json.membership, "join");
      assertError(await call(server, "GET", `${base}/state/m.room.avatar`, { token: bob.access_token }), 404, "M_NOT_FOUND");

      const members = await call(server, "GET", `${base}/members`, { token: bob.access_token });
      assert.deepEqual(members.json.chunk.map((e) => e.state_key).sort(), [alice.user_id, bob.user_id].sort());
      const joined = await call(server, "GET", `${base}/joined_members`, { token: bob.access_token });
      assert.deepEqual(Object.keys(joined.json.joined).sort(), [alice.user_id, bob.user_id].sort());

      const event = await call(server, "GET", `${base}/event/${enc(sent.json.event_id)}`, { token: bob.access_token });
      assert.equal(event.status, 200, event.text);
      assert.equal(event.json.content.body, "read me");
      assert.equal(event.json.event_id, sent.json.event_id);
      const fake = "$" + "A".repeat(43);
      assertError(await call(server, "GET", `${base}/event/${enc(fake)}`, { token: bob.access_token }), 404, "M_NOT_FOUND");
      assertError(await call(server, "GET", `${base}/event/nonsense`, { token: bob.access_token }), 400, "M_INVALID_PARAM");

      const rooms = await call(server, "GET", `${v3}/joined_rooms`, { token: bob.access_token });
      assert.ok(rooms.json.joined_rooms.includes(room));

      // Outsiders learn nothing, whether or not the room exists.
      const carol = await register(server, "carol");
      assertError(await call(server, "GET", `${base}/state`, { token: carol.access_token }), 403, "M_FORBIDDEN");
      assertError(await call(server, "GET", `${base}/members`, { token: carol.access_token }), 403, "M_FORBIDDEN");
      assertError(await call(server, "GET", `${v3}/rooms/${enc("!nope:localhost")}/state`, { token: carol.access_token }), 403, "M_FORBIDDEN");
      assertError(await call(server, "GET", `${v3}/rooms/nope/state`, { token: carol.access_token }), 400, "M_INVALID_PARAM");
    });

    await t.test("room directory: aliases, listing, /publicRooms", async () => {
      const { room_id: room } = await sdkAlice.createRoom({ preset: "public_chat", name: "Town square", topic: "all welcome", visibility: "public" });
      const { room_id: quiet } = await sdkAlice.createRoom({ name: "Back room" });
      const alias = "#square:localhost";
      const aliasPath = `${v3}/directory/room/${enc(alias)}`;

      assert.equal((await call(server, "PUT", aliasPath, { token: bob.access_token, body: { room_id: room } })).status, 200);
      assertError(await call(server, "PUT", aliasPath, { token: alice.access_token, body: { room_id: room } }), 409, "M_UNKNOWN");
      const resolved = await call(server, "GET", aliasPath);
      assert.deepEqual(resolved.json, { room_id: room, servers: ["localhost"] });
      assert.equal((await sdkAlice.getRoomIdForAlias(alias)).room_id, room);

      // Only its creator or a room moderator removes an alias.
      const carol = await register(server, "carol2");
      assertError(await call(server, "DELETE", aliasPath, { token: carol.access_token }), 403, "M_FORBIDDEN");
      assert.equal((await call(server, "DELETE", aliasPath, { token: alice.access_token })).status, 200);
      assertError(await call(server, "GET", aliasPath), 404, "M_NOT_FOUND");
      assertError(await call(server, "DELETE", aliasPath, { token: alice.access_token }), 404, "M_NOT_FOUND");

      assertError(await call(server, "PUT", `${v3}/directory/room/${enc("#x:elsewhere.org")}`, { token: alice.access_token, body: { room_id: room } }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "PUT", `${v3}/directory/room/${enc("#y:localhost")}`, { token: alice.access_token, body: { room_id: "!nope:localhost" } }), 404, "M_NOT_FOUND");
      assertError(await call(server, "PUT", `${v3}/directory/room/${enc("#y:localhost")}`, { token: alice.access_token, body: {} }), 400, "M_MISSING_PARAM");

      const listed = await call(server, "GET", `${v3}/publicRooms`);
      assert.equal(listed.status, 200, listed.text);
      const entry = listed.json.chunk.find((r) => r.room_id === room);
      assert.ok(entry, listed.text);
      assert.equal(entry.name, "Town square");
      assert.equal(entry.topic, "all welcome");
      assert.equal(entry.join_rule, "public");
      assert.ok(!listed.json.chunk.some((r) => r.room_id === quiet), "private rooms are not listed");

      assert.deepEqual((await call(server, "GET", `${v3}/directory/list/room/${enc(quiet)}`)).json, { visibility: "private" });
      assertError(await call(server, "PUT", `${v3}/directory/list/room/${enc(quiet)}`, { token: bob.access_token, body: { visibility: "public" } }), 403, "M_FORBIDDEN");
      assert.equal((await call(server, "PUT", `${v3}/directory/list/room/${enc(quiet)}`, { token: alice.access_token, body: { visibility: "public" } })).status, 200);
      const search = await call(server, "POST", `${v3}/publicRooms`, { token: bob.access_token, body: { filter: { generic_search_term: "back" } } });
      assert.deepEqual(search.json.chunk.map((r) => r.room_id), [quiet]);
      const paged = await call(server, "GET", `${v3}/publicRooms?limit=1`);
      assert.equal(paged.json.chunk.length, 1);
      assert.ok(paged.json.next_batch);
      const next = await call(server, "GET", `${v3}/publicRooms?limit=1&since=${paged.json.next_batch}`);
      assert.notEqual(next.json.chunk[0].room_id, paged.json.chunk[0].room_id);
      assertError(await call(server, "GET", `${v3}/publicRooms?since=bogus`), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", `${v3}/directory/list/room/${enc("!nope:localhost")}`), 404, "M_NOT_FOUND");
    });

    await t.test("profiles: read, change, carried by joins", async () => {
      const frank = await register(server, "frank");
      const profilePath = (user, field = "") => `${v3}/profile/${enc(user)}${field ? "/" + field : ""}`;
      assert.deepEqual((await call(server, "GET", profilePath(frank.user_id))).json, { displayname: "frank" });
      const sdkFrank = sdk.createClient({ baseUrl: server.baseUrl, accessToken: frank.access_token, userId: frank.user_id });
      await sdkFrank.setDisplayName("Frank F.");
      assert.equal((await sdkAlice.getProfileInfo(frank.user_id)).displayname, "Frank F.");
      assert.equal((await call(server, "PUT", profilePath(frank.user_id, "avatar_url"), { token: frank.access_token, body: { avatar_url: "mxc://localhost/abc" } })).status, 200);
      assert.deepEqual((await call(server, "GET", profilePath(frank.user_id, "avatar_url"))).json, { avatar_url: "mxc://localhost/abc" });

      const { room_id: room } = await sdkAlice.createRoom({ preset: "public_chat" });
      assert.equal((await call(server, "POST", `${v3}/join/${enc(room)}`, { token: frank.access_token })).status, 200);
      const member = await call(server, "GET", `${v3}/rooms/${enc(room)}/state/m.room.member/${enc(frank.user_id)}`, { token: frank.access_token });
      assert.equal(member.json.displayname, "Frank F.");
      assert.equal(member.json.avatar_url, "mxc://localhost/abc");

      assertError(await call(server, "PUT", profilePath(alice.user_id, "displayname"), { token: frank.access_token, body: { displayname: "x" } }), 403, "M_FORBIDDEN");
      assertError(await call(server, "PUT", profilePath(frank.user_id, "avatar_url"), { token: frank.access_token, body: { avatar_url: "http://evil" } }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "PUT", profilePath(frank.user_id, "displayname"), { token: frank.access_token, body: { displayname: "x".repeat(300) } }), 413, "M_TOO_LARGE");
      assertError(await call(server, "GET", profilePath("@nobody:localhost")), 404, "M_NOT_FOUND");
      // A remote user's profile is asked of their server: one that cannot be reached (here an
      // address federation refuses to contact, so nothing leaves the machine) is a 503.
      assertError(await call(server, "GET", profilePath("@someone:127.0.0.1:9")), 503, "M_UNKNOWN");
      assertError(await call(server, "GET", profilePath("not-a-user")), 400, "M_INVALID_PARAM");
    });

    await t.test("room version 12: the room is named by its create event, creators are implied", async () => {
      const caps = await call(server, "GET", `${v3}/capabilities`, { token: alice.access_token });
      assert.equal(caps.json.capabilities["m.room_versions"].available["12"], "stable");
      const { room_id: room } = await sdkAlice.createRoom({ preset: "public_chat", room_version: "12", name: "Twelve" });
      assert.match(room, /^![A-Za-z0-9_-]{43}$/, "no server part: the create event's hash");
      assert.equal((await call(server, "POST", `${v3}/join/${enc(room)}`, { token: bob.access_token })).status, 200);
      assert.equal((await send(alice, room, { msgtype: "m.text", body: "twelve" }, "v12a")).status, 200);
      const create = await call(server, "GET", `${v3}/rooms/${enc(room)}/state/m.room.create/`, { token: bob.access_token });
      assert.equal(create.json.room_version, "12");
      const levels = await call(server, "GET", `${v3}/rooms/${enc(room)}/state/m.room.power_levels/`, { token: bob.access_token });
      assert.deepEqual(levels.json.users ?? {}, {}, "the creator is not listed");
      const page = await call(server, "GET", `${v3}/rooms/${enc(room)}/messages?dir=b&limit=20`, { token: bob.access_token });
      assert.ok(page.json.chunk.some((e) => e.content.body === "twelve"));
      // A creator may not be listed in the power levels (auth rule 10.4), and Bob cannot promote himself.
      assertError(await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.room.power_levels/`,
        { token: alice.access_token, body: { users: { [alice.user_id]: 100 } } }), 403, "M_FORBIDDEN");
      assertError(await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.room.power_levels/`,
        { token: bob.access_token, body: { users: { [bob.user_id]: 100 } } }), 403, "M_FORBIDDEN");
    });

    await t.test("bad input gets Matrix errors", async () => {
      const { room_id: room } = await sdkAlice.createRoom({});
      const token = alice.access_token;
      assertError(await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/f1`, { token, raw: '{"n":1.5}' }), 400, "M_BAD_JSON");
      assertError(await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/f2`, { token, raw: '{"n":9007199254740992}' }), 400, "M_BAD_JSON");
      assertError(await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/f3`, { token, raw: "{nope" }), 400, "M_NOT_JSON");
      assertError(await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/f4`, { token, body: { body: "x".repeat(70000) } }), 413, "M_TOO_LARGE");
      assertError(await call(server, "PUT", `${v3}/rooms/not-a-room/send/m.room.message/f5`, { token, body: {} }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "PUT", `${v3}/rooms/${enc("!unknown:localhost")}/send/m.room.message/f6`, { token, body: {} }), 403, "M_FORBIDDEN");
      assertError(await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.custom/${enc(bob.user_id)}`, { token, body: {} }), 403, "M_FORBIDDEN");
      assertError(await call(server, "POST", `${v3}/createRoom`, { token, body: { room_version: "99" } }), 400, "M_UNSUPPORTED_ROOM_VERSION");
      assertError(await call(server, "POST", `${v3}/createRoom`, { token, body: { preset: "party" } }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "POST", `${v3}/createRoom`, { token, body: { invite: "bob" } }), 400, "M_BAD_JSON");
      assertError(await call(server, "POST", `${v3}/createRoom`, { token, body: { invite: ["bob"] } }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "POST", `${v3}/rooms/${enc(room)}/invite`, { token, body: {} }), 400, "M_MISSING_PARAM");
      assertError(await call(server, "POST", `${v3}/join/${enc("#nowhere:localhost")}`, { token }), 404, "M_NOT_FOUND");
      assertError(await call(server, "POST", `${v3}/createRoom`, { body: {} }), 401, "M_MISSING_TOKEN");
    });
  });
}
