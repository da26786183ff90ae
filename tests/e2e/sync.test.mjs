// /sync end to end: two stock matrix-js-sdk clients (alice, bob) run their own sync loops
// (startClient) against Periscope; alice creates a room, bob joins, both talk, and each sees the
// other's messages arrive through Room.timeline. Also: raw long-polls and bad sync input.
// Monolith and mesh.

import assert from "node:assert/strict";
import test from "node:test";
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { startPeriscope } from "./harness.mjs";
import { assertError, call, register } from "./http.mjs";

logger.setLevel("warn");

// Resolves with the first Room.timeline event in `roomId` whose body is `body`.
function waitForMessage(client, roomId, body, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${client.getUserId()} never saw "${body}"`)), timeoutMs);
    const seen = (event, room) => {
      if (room?.roomId === roomId && event.getType() === "m.room.message" && event.getContent().body === body) {
        clearTimeout(timer);
        client.off(sdk.RoomEvent.Timeline, seen);
        resolve(event);
      }
    };
    client.on(sdk.RoomEvent.Timeline, seen);
  });
}

function waitForSyncState(client, state) {
  return new Promise((resolve) => {
    if (client.getSyncState() === state) return resolve();
    const on = (s) => { if (s === state) { client.off(sdk.ClientEvent.Sync, on); resolve(); } };
    client.on(sdk.ClientEvent.Sync, on);
  });
}

async function startClient(server, account, errors) {
  const client = sdk.createClient({
    baseUrl: server.baseUrl, accessToken: account.access_token, userId: account.user_id, deviceId: account.device_id,
  });
  client.on(sdk.ClientEvent.Sync, (state, _prev, data) => { if (state === "ERROR") errors.push(String(data?.error)); });
  await client.startClient({ initialSyncLimit: 20 });
  await waitForSyncState(client, "PREPARED");
  return client;
}

for (const mode of ["monolith", "mesh"]) {
  test(`sync (${mode})`, async (t) => {
    const server = await startPeriscope({ mode });
    const clients = [];
    t.after(async () => { for (const c of clients) c.stopClient(); await server.destroy(); });
    t.afterEach((ctx) => { if (ctx.failed) console.log(server.logs()); });

    await t.test("two SDK clients see each other's messages through their sync loops", async () => {
      const errors = [];
      const aliceAccount = await register(server, "alice");
      const bobAccount = await register(server, "bob");
      const alice = await startClient(server, aliceAccount, errors);
      const bob = await startClient(server, bobAccount, errors);
      clients.push(alice, bob);

      const { room_id: roomId } = await alice.createRoom({ preset: "public_chat", name: "Chat" });
      await bob.joinRoom(roomId);

      const bobSees = waitForMessage(bob, roomId, "hello bob");
      await alice.sendTextMessage(roomId, "hello bob");
      const seenByBob = await bobSees;
      assert.equal(seenByBob.getSender(), aliceAccount.user_id);

      const aliceSees = waitForMessage(alice, roomId, "hi alice");
      await bob.sendTextMessage(roomId, "hi alice");
      assert.equal((await aliceSees).getSender(), bobAccount.user_id);

      assert.equal(alice.getRoom(roomId)?.name, "Chat");
      assert.equal(bob.getRoom(roomId)?.getJoinedMemberCount(), 2);
      assert.deepEqual(errors, [], "no sync errors");
    });

    await t.test("roomserver and syncapi restart mid-conversation: nothing lost or duplicated", async () => {
      const [alice, bob] = clients;
      const { room_id: roomId } = await alice.createRoom({ preset: "public_chat" });
      await bob.joinRoom(roomId);
      const bodies = (client) => client.getRoom(roomId).getLiveTimeline().getEvents()
        .filter((e) => e.getType() === "m.room.message").map((e) => e.getContent().body);
      const say = async (client, body) => {
        const others = clients.filter((c) => c !== client).map((c) => waitForMessage(c, roomId, body, 30000));
        await client.sendTextMessage(roomId, body);
        await Promise.all(others);
      };
      await say(alice, "before 1");
      await say(bob, "before 2");

      await server.restartComponents(["roomserver", "syncapi"]);

      // The first send after the restart may meet a gateway whose channel is reconnecting.
      for (let i = 0; ; i++) {
        try { await say(alice, "after 1"); break; } catch (e) { if (i > 20) throw e; await new Promise((r) => setTimeout(r, 250)); }
      }
      await say(bob, "after 2");
      const want = ["before 1", "before 2", "after 1", "after 2"];
      assert.deepEqual(bodies(alice), want);
      assert.deepEqual(bodies(bob), want);
    });

    await t.test("account data: the SDK sets it and its sync loop delivers it; bad input refused", async () => {
      const [alice] = clients;
      const roomId = alice.getRooms()[0].roomId;
      const seen = (type, check) => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${type} never arrived`)), 15000);
        const on = (event) => {
          if (event.getType() === type && check(event.getContent())) {
            clearTimeout(timer); alice.off(sdk.ClientEvent.AccountData, on); resolve();
          }
        };
        alice.on(sdk.ClientEvent.AccountData, on);
      });
      const direct = seen("m.direct", (c) => c["@bob:localhost"]?.[0] === roomId);
      await alice.setAccountData("m.direct", { "@bob:localhost": [roomId] });
      await direct;
      const tagged = new Promise((resolve) => {
        alice.on(sdk.RoomEvent.Tags, (event, room) => { if (room.roomId === roomId && event.getContent().tags?.["u.work"]) resolve(); });
      });
      await alice.setRoomTag(roomId, "u.work", { order: 0.25 });
      await tagged;
      assert.equal(alice.getRoom(roomId).tags["u.work"].order, 0.25);

      const token = alice.getAccessToken();
      const user = encodeURIComponent(alice.getUserId());
      const room = encodeURIComponent(roomId);
      const got = await call(server, "GET", `/_matrix/client/v3/user/${user}/account_data/m.direct`, { token });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.json, { "@bob:localhost": [roomId] });
      const roomGot = await call(server, "GET", `/_matrix/client/r0/user/${user}/rooms/${room}/account_data/m.tag`, { token });
      assert.deepEqual(roomGot.json, { tags: { "u.work": { order: 0.25 } } });
      const tags = await call(server, "GET", `/_matrix/client/v3/user/${user}/rooms/${room}/tags`, { token });
      assert.deepEqual(tags.json, { tags: { "u.work": { order: 0.25 } } });
      await alice.setRoomTag(roomId, "m.favourite", {});
      await alice.deleteRoomTag(roomId, "u.work");
      const after = await call(server, "GET", `/_matrix/client/v3/user/${user}/rooms/${room}/tags`, { token });
      assert.deepEqual(after.json, { tags: { "m.favourite": {} } });
      assertError(await call(server, "PUT", `/_matrix/client/v3/user/${user}/rooms/${room}/tags/u.x`, { token, raw: "7" }), 400, "M_BAD_JSON");
      assertError(await call(server, "GET", `/_matrix/client/v3/user/${encodeURIComponent("@bob:localhost")}/rooms/${room}/tags`, { token }), 403, "M_FORBIDDEN");
      assertError(await call(server, "GET", `/_matrix/client/v3/user/${user}/account_data/m.unset`, { token }), 404, "M_NOT_FOUND");
      assertError(await call(server, "PUT", `/_matrix/client/v3/user/${encodeURIComponent("@bob:localhost")}/account_data/m.x`, { token, body: {} }), 403, "M_FORBIDDEN");
      assertError(await call(server, "GET", `/_matrix/client/v3/user/${encodeURIComponent("@bob:localhost")}/account_data/m.direct`, { token }), 403, "M_FORBIDDEN");
      assertError(await call(server, "PUT", `/_matrix/client/v3/user/${user}/rooms/${room}/account_data/m.fully_read`, { token, body: { event_id: "$x" } }), 405, "M_BAD_JSON");
      assertError(await call(server, "PUT", `/_matrix/client/v3/user/${user}/account_data/m.push_rules`, { token, body: {} }), 405, "M_BAD_JSON");
      assertError(await call(server, "PUT", `/_matrix/client/v3/user/${user}/account_data/m.x`, { token, raw: "{nope" }), 400, "M_NOT_JSON");
      assertError(await call(server, "PUT", `/_matrix/client/v3/user/${user}/account_data/m.x`, { token, raw: "[1]" }), 400, "M_BAD_JSON");
      assertError(await call(server, "PUT", `/_matrix/client/v3/user/${user}/rooms/not-a-room/account_data/m.x`, { token, body: {} }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "PUT", `/_matrix/client/v3/user/${user}/account_data/m.x`, { token, body: { big: "x".repeat(70000) } }), 413, "M_TOO_LARGE");

      // Presence is not tracked: a client's own update is accepted, everyone reads offline.
      const put = await call(server, "PUT", `/_matrix/client/v3/presence/${user}/status`, { token, body: { presence: "online", status_msg: "here" } });
      assert.equal(put.status, 200, put.text);
      const presence = await call(server, "GET", `/_matrix/client/v3/presence/${user}/status`, { token });
      assert.deepEqual(presence.json, { presence: "offline" });
      assertError(await call(server, "PUT", `/_matrix/client/v3/presence/${user}/status`, { token, body: { presence: "asleep" } }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "PUT", `/_matrix/client/v3/presence/${encodeURIComponent("@bob:localhost")}/status`, { token, body: { presence: "online" } }), 403, "M_FORBIDDEN");
      assertError(await call(server, "GET", `/_matrix/client/v3/presence/${encodeURIComponent("@nobody:localhost")}/status`, { token }), 404, "M_NOT_FOUND");
    });

    await t.test("/messages pages back and forth through a room", async () => {
      const dave = await register(server, "dave");
      const token = dave.access_token;
      const created = await call(server, "POST", "/_matrix/client/v3/createRoom", { token, body: {} });
      const room = encodeURIComponent(created.json.room_id);
      for (const n of [1, 2, 3, 4, 5]) {
        const r = await call(server, "PUT", `/_matrix/client/v3/rooms/${room}/send/m.room.message/m${n}`, { token, body: { msgtype: "m.text", body: `m${n}` } });
        assert.equal(r.status, 200, r.text);
      }
      const bodies = (r) => r.json.chunk.filter((e) => e.type === "m.room.message").map((e) => e.content.body);
      // syncapi applies the stream asynchronously: wait until the last message is there.
      let first;
      for (let i = 0; i < 100; i++) {
        first = await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?dir=b&limit=2`, { token });
        if (bodies(first)[0] === "m5") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(bodies(first), ["m5", "m4"]);
      const second = await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?dir=b&limit=2&from=${first.json.end}`, { token });
      assert.deepEqual(bodies(second), ["m3", "m2"]);
      const forward = await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?dir=f&limit=2&from=${second.json.end}`, { token });
      assert.deepEqual(bodies(forward), ["m2", "m3"]);
      const all = await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?dir=b&limit=100`, { token });
      assert.equal(all.json.end, undefined, "a short page is the last one");
      assert.equal(all.json.chunk.at(-1).type, "m.room.create");

      const m3 = second.json.chunk.find((e) => e.content?.body === "m3");
      const context = await call(server, "GET", `/_matrix/client/v3/rooms/${room}/context/${encodeURIComponent(m3.event_id)}?limit=2`, { token });
      assert.equal(context.status, 200, context.text);
      assert.equal(context.json.event.content.body, "m3");
      assert.deepEqual(context.json.events_before.map((e) => e.content.body), ["m2"]);
      assert.deepEqual(context.json.events_after.map((e) => e.content.body), ["m4"]);
      assert.ok(context.json.state.some((e) => e.type === "m.room.create"));
      const fromContext = await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?dir=b&limit=1&from=${context.json.start}`, { token });
      assert.deepEqual(bodies(fromContext), ["m1"]);
      assertError(await call(server, "GET", `/_matrix/client/v3/rooms/${room}/context/${encodeURIComponent("$" + "B".repeat(43))}`, { token }), 404, "M_NOT_FOUND");
      assertError(await call(server, "GET", `/_matrix/client/v3/rooms/${room}/context/bad`, { token }), 400, "M_INVALID_PARAM");

      const eve = await register(server, "eve");
      assertError(await call(server, "GET", `/_matrix/client/v3/rooms/${room}/context/${encodeURIComponent(m3.event_id)}`, { token: eve.access_token }), 403, "M_FORBIDDEN");
      assertError(await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages`, { token: eve.access_token }), 403, "M_FORBIDDEN");
      assertError(await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?dir=sideways`, { token }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?from=yesterday`, { token }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?limit=-3`, { token }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", `/_matrix/client/v3/rooms/${room}/messages?filter=${encodeURIComponent("{no")}`, { token }), 400, "M_INVALID_PARAM");
    });

    await t.test("raw /sync: long-poll, filters, bad input", async () => {
      const carol = await register(server, "carol");
      const token = carol.access_token;
      const initial = await call(server, "GET", "/_matrix/client/v3/sync", { token });
      assert.equal(initial.status, 200, initial.text);
      assert.match(initial.json.next_batch, /^s\d+$/);

      const start = Date.now();
      const idle = await call(server, "GET", `/_matrix/client/v3/sync?since=${initial.json.next_batch}&timeout=500`, { token });
      assert.equal(idle.status, 200);
      assert.ok(Date.now() - start >= 400, "the long-poll waited");
      assert.deepEqual(idle.json.rooms.join, {});

      const filter = await call(server, "POST", `/_matrix/client/v3/user/${encodeURIComponent(carol.user_id)}/filter`, {
        token, body: { room: { timeline: { limit: 1 } } },
      });
      assert.equal(filter.status, 200, filter.text);
      const stored = await call(server, "GET", `/_matrix/client/v3/user/${encodeURIComponent(carol.user_id)}/filter/${filter.json.filter_id}`, { token });
      assert.deepEqual(stored.json, { room: { timeline: { limit: 1 } } });
      const filtered = await call(server, "GET", `/_matrix/client/v3/sync?filter=${filter.json.filter_id}`, { token });
      assert.equal(filtered.status, 200, filtered.text);

      assertError(await call(server, "GET", "/_matrix/client/v3/sync?since=garbage", { token }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", "/_matrix/client/v3/sync?timeout=soon", { token }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", `/_matrix/client/v3/sync?filter=${encodeURIComponent("{broken")}`, { token }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", "/_matrix/client/v3/sync?filter=nosuchid", { token }), 400, "M_INVALID_PARAM");
      assertError(await call(server, "GET", "/_matrix/client/v3/sync"), 401, "M_MISSING_TOKEN");
      assertError(await call(server, "POST", "/_matrix/client/v3/user/@someone:localhost/filter", { token, body: {} }), 403, "M_FORBIDDEN");
    });
  });
}
