// The federation demo's conversation (scripts/quickstart --federation-demo): alice on server A
// creates a room, bob on server B joins it by its alias over federation, and each says something
// the other receives through /sync. Prints each step and how long the message took to arrive.
//
//   node scripts/federation-demo.mjs <A client URL> <B client URL>

const [aUrl, bUrl] = process.argv.slice(2);
if (!aUrl || !bUrl) {
  console.error("usage: node scripts/federation-demo.mjs <A client URL> <B client URL>");
  process.exit(2);
}
const v3 = "/_matrix/client/v3";

async function call(base, method, path, { body, token } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

function check(r, what) {
  if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.json;
}

// Registers `name` (password "demo-password"), or logs in if the account exists.
async function account(base, name) {
  const body = { username: name, password: "demo-password", auth: { type: "m.login.dummy" } };
  const r = await call(base, "POST", `${v3}/register`, { body });
  if (r.status === 200) return r.json;
  return check(await call(base, "POST", `${v3}/login`, {
    body: { type: "m.login.password", identifier: { type: "m.id.user", user: name }, password: "demo-password" },
  }), `log in ${name}`);
}

// Waits in /sync until `body` appears in the room's timeline; returns the event.
async function receive(base, user, room, body, since) {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const q = since ? `?timeout=5000&since=${encodeURIComponent(since)}` : "?timeout=0";
    const sync = check(await call(base, "GET", `${v3}/sync${q}`, { token: user.access_token }), "sync");
    const hit = sync.rooms?.join?.[room]?.timeline?.events?.find((e) => e.content?.body === body);
    if (hit) return hit;
    since = sync.next_batch;
  }
  throw new Error(`"${body}" never arrived`);
}

async function latestToken(base, user) {
  return check(await call(base, "GET", `${v3}/sync?timeout=0`, { token: user.access_token }), "sync").next_batch;
}

const alice = await account(aUrl, "alice");
const bob = await account(bUrl, "bob");
console.log(`A: ${alice.user_id}    B: ${bob.user_id}`);
const aliasName = `demo${Date.now() % 100000}`;
const room = check(await call(aUrl, "POST", `${v3}/createRoom`, {
  token: alice.access_token, body: { preset: "public_chat", name: "Federation demo", room_alias_name: aliasName },
}), "create the room").room_id;
const alias = `#${aliasName}:${alice.user_id.slice(alice.user_id.indexOf(":") + 1)}`;
console.log(`alice created ${room} (${alias}) on A`);
const joined = check(await call(bUrl, "POST", `${v3}/join/${encodeURIComponent(alias)}`, { token: bob.access_token, body: {} }), "join over federation");
console.log(`bob joined it from B through A (make_join, send_join): ${joined.room_id}`);

for (const [from, to, sender, receiver, body] of [
  [aUrl, bUrl, alice, bob, "hello from A"],
  [bUrl, aUrl, bob, alice, "hello from B"],
]) {
  const since = await latestToken(to, receiver);
  const started = performance.now();
  check(await call(from, "PUT", `${v3}/rooms/${encodeURIComponent(room)}/send/m.room.message/${Date.now()}`, {
    token: sender.access_token, body: { msgtype: "m.text", body },
  }), "send");
  const event = await receive(to, receiver, room, body, since);
  console.log(`${receiver.user_id} received "${body}" from ${event.sender} in ${(performance.now() - started).toFixed(1)} ms`);
}
console.log(`Log in as alice (A, ${aUrl}) or bob (B, ${bUrl}) with password "demo-password" in any Matrix client.`);
