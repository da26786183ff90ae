// What must not happen, end to end over HTTP (issue 12): an acknowledged message lost or doubled
// under concurrent sends, a room's m.room.create replaced, history shown to a user the room's
// history visibility hides it from. Each case also checks the other way: what must be shown is.

import assert from "node:assert/strict";
import test from "node:test";
import { startPeriscope } from "./harness.mjs";
import { assertError, call, register } from "./http.mjs";

const v3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

// Every event of the room (client form) that `who` can page back to through /messages.
async function allMessages(server, who, room) {
  const events = [];
  let from = "";
  for (let page = 0; page < 100; page++) {
    const q = `dir=b&limit=100${from ? `&from=${enc(from)}` : ""}`;
    const r = await call(server, "GET", `${v3}/rooms/${enc(room)}/messages?${q}`, { token: who.access_token });
    assert.equal(r.status, 200, r.text);
    events.push(...r.json.chunk);
    if (!r.json.end) return events;
    from = r.json.end;
  }
  throw new Error("too many pages");
}

// Waits until `predicate(events)` holds for the room's /messages as `who` sees it (syncapi
// applies the stream asynchronously).
async function eventually(server, who, room, predicate, what) {
  let events = [];
  for (let i = 0; i < 100; i++) {
    events = await allMessages(server, who, room);
    if (predicate(events)) return events;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what}: ${JSON.stringify(events.map((e) => e.event_id))}`);
}

const bodies = (events) => events.filter((e) => e.type === "m.room.message").map((e) => e.content.body);

for (const mode of ["monolith", "mesh"]) {
  test(`no acknowledged event is lost or doubled under concurrent sends (${mode})`, async (t) => {
    const server = await startPeriscope({ mode });
    t.after(() => server.destroy());
    t.afterEach((ctx) => { if (ctx.failed) console.log(server.logs()); });
    const alice = await register(server, "alice");

    // 20 rooms, 25 messages each, from 20 concurrent senders (each cycling through the rooms, so
    // every room has several writers at once): the interleaving that lost ~2% of events.
    const rooms = [];
    for (let i = 0; i < 20; i++) {
      const r = await call(server, "POST", `${v3}/createRoom`, { token: alice.access_token, body: {} });
      assert.equal(r.status, 200, r.text);
      rooms.push(r.json.room_id);
    }
    const acknowledged = new Map(rooms.map((room) => [room, []]));
    await Promise.all(Array.from({ length: 20 }, async (_, sender) => {
      for (let i = 0; i < 25; i++) {
        const room = rooms[(sender + i) % rooms.length];
        const r = await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/s${sender}-${i}`, {
          token: alice.access_token, body: { msgtype: "m.text", body: `s${sender}-${i}` },
        });
        assert.equal(r.status, 200, r.text);
        acknowledged.get(room).push(r.json.event_id);
      }
    }));

    for (const room of rooms) {
      const want = acknowledged.get(room);
      const events = await eventually(server, alice, room,
        (es) => want.every((id) => es.some((e) => e.event_id === id)),
        `every acknowledged event of ${room} in /messages`);
      for (const id of want) {
        assert.equal(events.filter((e) => e.event_id === id).length, 1, `${id} exactly once`);
      }
    }
  });
}

test("nobody can replace a room's create event; history visibility holds on every read", async (t) => {
  const server = await startPeriscope({ mode: "monolith" });
  t.after(() => server.destroy());
  t.afterEach((ctx) => { if (ctx.failed) console.log(server.logs()); });
  const alice = await register(server, "alice");
  const bob = await register(server, "bob");
  const carol = await register(server, "carol");
  const createRoom = async (body) => {
    const r = await call(server, "POST", `${v3}/createRoom`, { token: alice.access_token, body });
    assert.equal(r.status, 200, r.text);
    return r.json.room_id;
  };
  let txn = 0;
  const send = async (who, room, body) => {
    const r = await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.message/t${++txn}`, {
      token: who.access_token, body: { msgtype: "m.text", body },
    });
    assert.equal(r.status, 200, r.text);
    return r.json.event_id;
  };
  const join = async (who, room) => {
    const r = await call(server, "POST", `${v3}/join/${enc(room)}`, { token: who.access_token, body: {} });
    assert.equal(r.status, 200, r.text);
  };
  const invite = async (room, who) => {
    const r = await call(server, "POST", `${v3}/rooms/${enc(room)}/invite`, {
      token: alice.access_token, body: { user_id: who.user_id },
    });
    assert.equal(r.status, 200, r.text);
  };
  const setVisibility = async (room, v) => {
    const r = await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.room.history_visibility`, {
      token: alice.access_token, body: { history_visibility: v },
    });
    assert.equal(r.status, 200, r.text);
  };
  const initialSync = async (who) => {
    const r = await call(server, "GET", `${v3}/sync?timeout=0`, { token: who.access_token });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };

  await t.test("m.room.create is refused to members, outsiders and the creator alike", async () => {
    const room = await createRoom({ preset: "public_chat" });
    await join(bob, room);
    const before = await call(server, "GET", `${v3}/rooms/${enc(room)}/state/m.room.create`, { token: alice.access_token });
    assert.equal(before.status, 200, before.text);
    for (const who of [carol, bob, alice]) {
      for (const key of ["", "x"]) {
        const r = await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.room.create/${key}`, {
          token: who.access_token, body: { creator: who.user_id, room_version: "1" },
        });
        assertError(r, 403, "M_FORBIDDEN");
      }
    }
    const after = await call(server, "GET", `${v3}/rooms/${enc(room)}/state/m.room.create`, { token: alice.access_token });
    assert.deepEqual(after.json, before.json);
  });

  await t.test("a client reads its own writes at once: join then /messages, state then /state", async () => {
    for (let i = 0; i < 10; i++) {
      const room = await createRoom({ preset: "public_chat" });
      await join(bob, room);
      const read = await call(server, "GET", `${v3}/rooms/${enc(room)}/messages?dir=b&limit=5`, { token: bob.access_token });
      assert.equal(read.status, 200, `right after a 200 /join: ${read.text}`);
      assert.ok(read.json.chunk.some((e) => e.type === "m.room.member" && e.state_key === bob.user_id), "the join itself");
      const put = await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.room.topic`, {
        token: alice.access_token, body: { topic: `topic ${i}` },
      });
      assert.equal(put.status, 200, put.text);
      const topic = await call(server, "GET", `${v3}/rooms/${enc(room)}/state/m.room.topic`, { token: alice.access_token });
      assert.equal(topic.json?.topic, `topic ${i}`, topic.text);
    }
  });

  await t.test("a redacted event is served redacted by every read", async () => {
    const room = await createRoom({ preset: "public_chat" });
    await join(bob, room);
    const secret = await send(alice, room, "regret");
    const topic = await call(server, "PUT", `${v3}/rooms/${enc(room)}/state/m.room.topic`, {
      token: alice.access_token, body: { topic: "also regret" },
    });
    for (const id of [secret, topic.json.event_id]) {
      const r = await call(server, "PUT", `${v3}/rooms/${enc(room)}/redact/${enc(id)}/r-${enc(id)}`, { token: alice.access_token, body: {} });
      assert.equal(r.status, 200, r.text);
    }
    const reads = {
      event: (await call(server, "GET", `${v3}/rooms/${enc(room)}/event/${enc(secret)}`, { token: bob.access_token })).text,
      state: (await call(server, "GET", `${v3}/rooms/${enc(room)}/state`, { token: bob.access_token })).text,
      stateKey: (await call(server, "GET", `${v3}/rooms/${enc(room)}/state/m.room.topic`, { token: bob.access_token })).text,
      messages: (await call(server, "GET", `${v3}/rooms/${enc(room)}/messages?dir=b&limit=50`, { token: bob.access_token })).text,
      context: (await call(server, "GET", `${v3}/rooms/${enc(room)}/context/${enc(secret)}`, { token: bob.access_token })).text,
      sync: JSON.stringify(await initialSync(bob)),
    };
    for (const [read, text] of Object.entries(reads)) {
      assert.ok(!text.includes("regret"), `${read} still shows redacted content: ${text}`);
    }
    const event = JSON.parse(reads.event);
    assert.deepEqual(event.content, {});
    assert.ok(event.unsigned.redacted_because, reads.event);
  });

  await t.test("a redaction sent through /send cannot redact what its sender may not", async () => {
    for (const version of ["10", "11"]) {
      const room = await createRoom({ preset: "public_chat", room_version: version });
      await join(bob, room);
      const mine = await send(alice, room, "alice's words");
      const sneak = await call(server, "PUT", `${v3}/rooms/${enc(room)}/send/m.room.redaction/sneak${version}`, {
        token: bob.access_token, body: { redacts: mine },
      });
      if (version === "11") {
        assertError(sneak, 403, "M_FORBIDDEN");  // content.redacts is the target in v11: checked
      } else {
        assert.equal(sneak.status, 200, sneak.text);  // no top-level redacts: a redaction of nothing
      }
      const read = await call(server, "GET", `${v3}/rooms/${enc(room)}/event/${enc(mine)}`, { token: bob.access_token });
      assert.equal(read.json?.content?.body, "alice's words", `v${version}: ${read.text}`);
    }
  });

  await t.test("joined: a new member sees nothing from before their join, old members do", async () => {
    const room = await createRoom({ preset: "public_chat" });
    await setVisibility(room, "joined");
    const secret = await send(alice, room, "before bob");
    await join(bob, room);
    const after = await send(alice, room, "after bob");
    const seen = await eventually(server, bob, room, (es) => es.some((e) => e.event_id === after), "bob sees what follows his join");
    assert.ok(!seen.some((e) => e.event_id === secret), "bob must not see the earlier message in /messages");
    assert.ok(bodies(await allMessages(server, alice, room)).includes("before bob"), "alice does");
    assertError(await call(server, "GET", `${v3}/rooms/${enc(room)}/context/${enc(secret)}`, { token: bob.access_token }), 404, "M_NOT_FOUND");
    const ctx = await call(server, "GET", `${v3}/rooms/${enc(room)}/context/${enc(after)}?limit=10`, { token: bob.access_token });
    assert.equal(ctx.status, 200, ctx.text);
    assert.ok(!ctx.json.events_before.some((e) => e.event_id === secret), "not in /context either");
    const sync = await initialSync(bob);
    const timeline = sync.rooms.join[room].timeline.events;
    assert.ok(!timeline.some((e) => e.event_id === secret), "nor in an initial /sync");
    assert.ok(timeline.some((e) => e.event_id === after));
  });

  await t.test("shared: history is shown to those who join later, not to those who never join", async () => {
    const room = await createRoom({ preset: "private_chat" });
    await setVisibility(room, "shared");
    const early = await send(alice, room, "early");
    await invite(room, carol);
    await invite(room, bob);
    await join(bob, room);
    await eventually(server, bob, room, (es) => es.some((e) => e.event_id === early), "bob (joined later) sees shared history");
    // Carol rejects her invite: her /sync leave section shows her own membership, nothing else.
    const since = (await initialSync(carol)).next_batch;
    const reject = await call(server, "POST", `${v3}/rooms/${enc(room)}/leave`, { token: carol.access_token, body: {} });
    assert.equal(reject.status, 200, reject.text);
    let left;
    for (let i = 0; i < 50 && !left; i++) {
      const r = await call(server, "GET", `${v3}/sync?timeout=1000&since=${since}`, { token: carol.access_token });
      left = r.json.rooms?.leave?.[room];
    }
    assert.ok(left, "the rejected invite shows in rooms.leave");
    for (const e of left.timeline.events) {
      assert.equal(e.type, "m.room.member", `carol must see only her own membership: ${JSON.stringify(e)}`);
      assert.equal(e.state_key, carol.user_id);
    }
    // A client-chosen early `since` does not open the room's history either.
    const fromStart = await call(server, "GET", `${v3}/sync?timeout=0&since=s1`, { token: carol.access_token });
    for (const e of fromStart.json.rooms?.leave?.[room]?.timeline?.events ?? []) {
      assert.equal(e.state_key, carol.user_id, JSON.stringify(e));
    }
    assertError(await call(server, "GET", `${v3}/rooms/${enc(room)}/context/${enc(early)}`, { token: carol.access_token }), 404, "M_NOT_FOUND");
  });

  await t.test("invited: history is shown from the invite on", async () => {
    const room = await createRoom({ preset: "private_chat" });
    await setVisibility(room, "invited");
    await send(alice, room, "before invite");
    await invite(room, bob);
    const during = await send(alice, room, "while invited");
    await join(bob, room);
    const seen = await eventually(server, bob, room, (es) => es.some((e) => e.event_id === during), "bob sees from his invite");
    assert.ok(!bodies(seen).includes("before invite"), "but nothing before it");
  });

  await t.test("world_readable: anyone may read, but only what was sent while it was set", async () => {
    const room = await createRoom({ preset: "public_chat" });
    await setVisibility(room, "joined");
    await send(alice, room, "members only");
    await setVisibility(room, "world_readable");
    const open = await send(alice, room, "for everyone");
    const seen = await eventually(server, carol, room, (es) => es.some((e) => e.event_id === open), "an outsider reads a world_readable room");
    assert.ok(!bodies(seen).includes("members only"), "not what came before it was world_readable");
    // A room that is not world_readable is closed to outsiders, whether or not it exists.
    const closed = await createRoom({ preset: "private_chat" });
    assertError(await call(server, "GET", `${v3}/rooms/${enc(closed)}/messages?dir=b`, { token: carol.access_token }), 403, "M_FORBIDDEN");
    assertError(await call(server, "GET", `${v3}/rooms/${enc("!nope:localhost")}/messages?dir=b`, { token: carol.access_token }), 403, "M_FORBIDDEN");
  });
});
