// A scriptable stand-in for another homeserver, for federation tests of what must be refused: it
// serves its key document over TLS (which a test may make expired or wrong) and signs requests
// with X-Matrix (which a test may forge), so that a Periscope server sees exactly the bytes a
// misbehaving peer would send. Everything is node's own crypto: ed25519 and canonical JSON.

import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";

// Canonical JSON (spec appendix): keys sorted, no whitespace. JSON.stringify already escapes as
// the spec wants for the strings these tests use.
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const unpadded = (buf) => buf.toString("base64").replace(/=+$/, "");

export function newSigningKey(version = "fake1") {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return { keyId: `ed25519:${version}`, publicKey: unpadded(raw), privateKey };
}

export function signJson(object, entity, key) {
  const { signatures = {}, unsigned, ...rest } = object;
  const sig = unpadded(crypto.sign(null, Buffer.from(canonicalJson(rest)), key.privateKey));
  return { ...object, signatures: { ...signatures, [entity]: { ...(signatures[entity] ?? {}), [key.keyId]: sig } } };
}

// A room version 10 event's content hash, signature by `entity` and id, for events whose content
// redaction keeps whole (an m.room.member with only a membership): the redacted form is then the
// event without `unsigned`.
export function signEvent(event, entity, key) {
  const { unsigned, signatures, hashes, ...body } = event;
  const sha256 = unpadded(crypto.createHash("sha256").update(canonicalJson(body)).digest());
  const signed = signJson({ ...body, hashes: { sha256 } }, entity, key);
  const { signatures: _s, ...forId } = signed;
  const id = "$" + crypto.createHash("sha256").update(canonicalJson(forId)).digest("base64url");
  return { event: signed, eventId: id };
}

// Starts the fake server on `port` with `tls` ({cert, key} paths). `name` is its server name.
// Its key document comes from keyDocument() (override to misbehave).
export async function startFakeServer({ name, port, tls }) {
  const server = {
    name,
    key: newSigningKey(),
    validUntil: () => Date.now() + 24 * 3600 * 1000,
  };
  server.keyDocument = () => signJson({
    server_name: name,
    verify_keys: { [server.key.keyId]: { key: server.key.publicKey } },
    old_verify_keys: {},
    valid_until_ts: server.validUntil(),
  }, name, server.key);
  // Transactions other servers sent it (PUT /send), parsed, in the order they came; each is
  // answered 200 (a test may replace answerTransaction).
  server.transactions = [];
  server.answerTransaction = () => ({ status: 200, body: { pdus: {} } });
  const httpsServer = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, (req, res) => {
    if (req.url === "/_matrix/key/v2/server") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(canonicalJson(server.keyDocument()));
      return;
    }
    if (req.method === "PUT" && req.url.startsWith("/_matrix/federation/v1/send/")) {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (d) => { text += d; });
      req.on("end", () => {
        let body;
        try { body = JSON.parse(text); } catch { body = undefined; }
        const { status, body: answer } = server.answerTransaction(body);
        if (status === 200) server.transactions.push({ txnId: decodeURIComponent(req.url.split("/").pop()), origin: body?.origin, body });
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer));
      });
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ errcode: "M_UNRECOGNIZED", error: "fake server" }));
  });
  await new Promise((resolve) => httpsServer.listen(port, "127.0.0.1", resolve));
  server.close = () => new Promise((resolve) => httpsServer.close(resolve));

  // The Authorization header for a request to `destination` (options may forge it).
  server.authorization = (method, uri, destination, content, { key = server.key, origin = name, signedDestination = destination } = {}) => {
    const object = { method, uri, origin, destination: signedDestination };
    if (content !== undefined) object.content = content;
    const sig = unpadded(crypto.sign(null, Buffer.from(canonicalJson(object)), key.privateKey));
    return `X-Matrix origin="${origin}",destination="${destination}",key="${key.keyId}",sig="${sig}"`;
  };
  return server;
}
