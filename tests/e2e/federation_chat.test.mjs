// Federation end to end with stock matrix-js-sdk clients in their own sync loops, on three
// servers on loopback (A and C monoliths, B the mesh): a room on A joined from B by alias and from
// C by id through B (B answers C's make_join and relays C's join to A), everybody talks; a private
// room's invites across servers, one accepted and one rejected; a restricted room open to the
// first room's members (A vouches for C's user; B's user in neither is refused), joined while A's
// user keeps talking (nothing said just after the join is lost on C, although nothing later pulls
// it); a user leaves and rejoins, and B is stopped mid-conversation and restarted: A's queue drains into B,
// nothing lost, nothing doubled; and B's federationsender is killed (SIGKILL) in the middle of a
// burst: restarted, it resends what it had not recorded as delivered, and no one sees a message
// twice.

import assert from "node:assert/strict";
import test from "node:test";
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { startFederation } from "./federation_harness.mjs";
import { call, register } from "./http.mjs";

logger.setLevel("warn");
const v3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

// Resolves with the first Room.timeline event in `roomId` that `match` accepts.
function waitForTimeline(client, roomId, match, what, timeoutMs = 45000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${client.getUserId()} never saw ${what}`)), timeoutMs);
    const seen = (event, room) => {
      if (room?.roomId === roomId && match(event)) {
        clearTimeout(timer);
        client.off(sdk.RoomEvent.Timeline, seen);
        resolve(event);
      }
    };
    client.on(sdk.RoomEvent.Timeline, seen);
  });
}
// Resolves once `check()` holds (polled), or rejects after the timeout.
async function waitFor(check, what, timeoutMs = 45000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const message = (body) => (e) => e.getType() === "m.room.message" && e.getContent().body === body;
const membership = (user, value) => (e) =>
  e.getType() === "m.room.member" && e.getStateKey() === user && e.getContent().membership === value;

async function startClient(server, account) {
  const client = sdk.createClient({
    baseUrl: server.baseUrl, accessToken: account.access_token, userId: account.user_id, deviceId: account.device_id,
  });
  await client.startClient({ initialSyncLimit: 20 });
  await new Promise((resolve) => {
    if (client.getSyncState() === "PREPARED") return resolve();
    const on = (s) => { if (s === "PREPARED") { client.off(sdk.ClientEvent.Sync, on); resolve(); } };
    client.on(sdk.ClientEvent.Sync, on);
  });
  return client;
}

// The bodies of the room's messages on `server` as `user` reads them with /messages, oldest first.
async function messageBodies(server, user, roomId) {
  const r = await call(server, "GET", `${v3}/rooms/${enc(roomId)}/messages?dir=b&limit=100`, { token: user.access_token });
  assert.equal(r.status, 200, r.text);
  return r.json.chunk.filter((e) => e.type === "m.room.message").map((e) => e.content.body).reverse();
}

test("federation: three servers chat through matrix-js-sdk clients", async (t) => {
  const fed = await startFederation([
    { name: "a.periscope.test", mode: "monolith" },
    { name: "b.periscope.test", mode: "mesh" },
    { name: "c.periscope.test", mode: "monolith" },
  ]);
  const clients = [];
  t.after(async () => { for (const c of clients) c.stopClient(); await fed.destroy(); });
  const a = fed.servers["a.periscope.test"];
  const b = fed.servers["b.periscope.test"];
  const c = fed.servers["c.periscope.test"];
  t.afterEach((ctx) => { if (ctx.failed) console.log(a.logs(), b.logs(), c.logs()); });

  const aliceAccount = await register(a, "alice");
  const bobAccount = await register(b, "bob");
  const carolAccount = await register(c, "carol");
  const alice = await startClient(a, aliceAccount);
  const bob = await startClient(b, bobAccount);
  const carol = await startClient(c, carolAccount);
  clients.push(alice, bob, carol);
  const { room_id: roomId } = await alice.createRoom({ preset: "public_chat", name: "Three", room_alias_name: "three" });

  // Everyone but the speaker sees `body` arrive in their sync loop.
  const say = async (speaker, body, listeners) => {
    const seen = listeners.map((l) => waitForTimeline(l, roomId, message(body), `"${body}"`));
    await speaker.sendTextMessage(roomId, body);
    await Promise.all(seen);
  };

  await t.test("B joins by A's alias, C by id through B, and all three talk", async () => {
    await bob.joinRoom("#three:a.periscope.test");
    const aliceSeesCarol = waitForTimeline(alice, roomId, membership(carolAccount.user_id, "join"), "carol's join");
    await carol.joinRoom(roomId, { viaServers: ["b.periscope.test"] });
    await aliceSeesCarol;  // relayed by B, which C joined through

    await say(alice, "hello from A", [bob, carol]);
    await say(bob, "hello from B", [alice, carol]);
    await say(carol, "hello from C", [alice, bob]);
    for (const client of [alice, bob, carol]) {
      const room = client.getRoom(roomId);
      assert.equal(room.name, "Three");
      assert.equal(room.getJoinedMemberCount(), 3, client.getUserId());
    }
  });

  await t.test("invites across servers: B's user accepts and talks, C's user rejects", async () => {
    const { room_id: secret } = await alice.createRoom({ preset: "private_chat", name: "Secret" });
    // Until invited, B cannot join the private room (A refuses make_join).
    await assert.rejects(bob.joinRoom(secret, { viaServers: ["a.periscope.test"] }), (e) => e.errcode === "M_FORBIDDEN");
    // Resolves once `client` holds `roomId` with its own membership `value`.
    const untilMembership = (client, roomId, value) => waitFor(
      () => client.getRoom(roomId)?.getMyMembership() === value, `${client.getUserId()} ${value} in ${roomId}`);

    // A asks B to sign the invite (PUT /v2/invite); B's /sync shows it with A's stripped state.
    await alice.invite(secret, bobAccount.user_id);
    await untilMembership(bob, secret, "invite");
    assert.equal(bob.getRoom(secret).name, "Secret");
    const aliceSeesBob = waitForTimeline(alice, secret, membership(bobAccount.user_id, "join"), "bob's join");
    await bob.joinRoom(secret);  // no via: through the inviter's server (a v12 room id names none)
    await aliceSeesBob;
    await untilMembership(bob, secret, "join");
    const bobHears = waitForTimeline(bob, secret, message("just us"), `"just us"`);
    await alice.sendTextMessage(secret, "just us");
    await bobHears;
    const aliceHears = waitForTimeline(alice, secret, message("indeed"), `"indeed"`);
    await bob.sendTextMessage(secret, "indeed");
    await aliceHears;

    // C's user rejects: the leave goes through A (make_leave, send_leave); A sees it, C forgets it.
    const aliceSeesReject = waitForTimeline(alice, secret, membership(carolAccount.user_id, "leave"), "carol's rejection");
    await alice.invite(secret, carolAccount.user_id);
    await untilMembership(carol, secret, "invite");
    await carol.leave(secret);
    await aliceSeesReject;
    await untilMembership(carol, secret, "leave");
    // And C has nothing of the room's messages.
    const r = await call(c, "GET", `${v3}/rooms/${enc(secret)}/messages?dir=b&limit=100`, { token: carolAccount.access_token });
    assert.ok(r.status === 403 || !r.json.chunk.some((e) => e.type === "m.room.message"), r.text);
  });

  await t.test("a restricted room: A vouches for a member of the allowed room; no one else gets in; nothing said during the join is lost", async () => {
    const { room_id: inner } = await alice.createRoom({
      name: "Inner",
      initial_state: [{
        type: "m.room.join_rules", state_key: "",
        content: { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: roomId }] },
      }],
    });
    // A user of B in none of the allowed rooms: A refuses make_join.
    const erinAccount = await register(b, "erin");
    const erin = await startClient(b, erinAccount);
    clients.push(erin);
    await assert.rejects(erin.joinRoom(inner, { viaServers: ["a.periscope.test"] }), (e) => e.errcode === "M_FORBIDDEN");

    // Carol is in the allowed room: she joins through A while alice keeps talking. What alice
    // says right after the join reaches C while C is still taking the join in.
    let talking = true;
    const said = [];
    const chatter = (async () => {
      for (let i = 0; talking; ++i) {
        const body = `during the join ${i}`;
        await alice.sendTextMessage(inner, body);
        said.push(body);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await carol.joinRoom(inner, { viaServers: ["a.periscope.test"] });
    talking = false;
    await chatter;
    // A's user vouched, and A signed carol's join.
    await waitFor(() => carol.getRoom(inner)?.getMyMembership() === "join", "carol in the inner room");
    const carolJoin = carol.getRoom(inner).currentState.getStateEvents("m.room.member", carolAccount.user_id);
    assert.equal(carolJoin.getContent().join_authorised_via_users_server, aliceAccount.user_id);

    // Everything A placed after carol's join reaches C, with nothing sent after it to pull it in.
    // Read with /messages on each server (a client's live timeline may be reset by a limited
    // sync), as far back as carol's join.
    const after = async (server, account) => {
      const r = await call(server, "GET", `${v3}/rooms/${enc(inner)}/messages?dir=b&limit=1000`, { token: account.access_token });
      assert.equal(r.status, 200, r.text);
      const events = r.json.chunk.reverse();
      const joinAt = events.findIndex((e) => e.type === "m.room.member" && e.state_key === carolAccount.user_id);
      return joinAt < 0 ? null : events.slice(joinAt + 1).filter((e) => e.type === "m.room.message").map((e) => e.content.body);
    };
    const afterJoin = await after(a, aliceAccount);
    assert.ok(afterJoin, "A has carol's join");
    let onC = [];
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      onC = (await after(c, carolAccount)) ?? [];
      if (afterJoin.every((body) => onC.includes(body))) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(afterJoin.filter((body) => !onC.includes(body)), [], "said after carol's join, missing on C");
  });

  await t.test("bob leaves and rejoins; the room goes on", async () => {
    const seenLeave = [alice, carol].map((cl) => waitForTimeline(cl, roomId, membership(bobAccount.user_id, "leave"), "bob's leave"));
    await bob.leave(roomId);
    await Promise.all(seenLeave);
    const seenJoin = [alice, carol].map((cl) => waitForTimeline(cl, roomId, membership(bobAccount.user_id, "join"), "bob's rejoin"));
    await bob.joinRoom(roomId);
    await Promise.all(seenJoin);
    await say(alice, "welcome back", [bob, carol]);
    await say(bob, "glad to be back", [alice, carol]);
  });

  await t.test("B stopped mid-conversation: A's queue drains once B is back, nothing lost or doubled", async () => {
    bob.stopClient();
    await b.stop();
    await alice.sendTextMessage(roomId, "while B was away 1");
    await alice.sendTextMessage(roomId, "while B was away 2");
    await b.restart();
    const want = ["while B was away 1", "while B was away 2"];
    const deadline = Date.now() + 60000;
    let got = [];
    while (Date.now() < deadline) {
      got = (await messageBodies(b, bobAccount, roomId)).filter((x) => x.startsWith("while B"));
      if (got.length >= want.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(got, want);
    // Nothing doubled anywhere: every message once on every server, in the same order.
    const all = ["hello from A", "hello from B", "hello from C", "welcome back", "glad to be back", ...want];
    for (const [server, user] of [[a, aliceAccount], [b, bobAccount], [c, carolAccount]]) {
      assert.deepEqual(await messageBodies(server, user, roomId), all, server.serverName);
    }
  });

  await t.test("B's federationsender killed mid-burst: restarted, every message arrives once", async () => {
    const fresh = await startClient(b, bobAccount);
    clients.push(fresh);
    const burst = Array.from({ length: 20 }, (_, i) => `burst ${i}`);
    const sending = (async () => { for (const body of burst) await fresh.sendTextMessage(roomId, body); })();
    await new Promise((r) => setTimeout(r, 50));
    await b.kill("federationsender");
    await sending;
    await b.restartComponents(["federationsender"]);
    for (const [server, user] of [[a, aliceAccount], [c, carolAccount]]) {
      const deadline = Date.now() + 60000;
      let got = [];
      while (Date.now() < deadline) {
        got = (await messageBodies(server, user, roomId)).filter((x) => x.startsWith("burst"));
        if (got.length >= burst.length) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.deepEqual(got, burst, server.serverName);
    }
  });
});
