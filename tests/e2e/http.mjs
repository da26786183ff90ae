// Raw HTTP helpers for end-to-end tests: call an endpoint, assert a Matrix error.

import assert from "node:assert/strict";

export async function call(server, method, path, { body, token, raw } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(server.baseUrl + path, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

export function assertError(r, status, errcode) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.errcode, errcode, r.text);
  assert.equal(typeof r.json?.error, "string", r.text);
}

// Registers `username` (password "pw") with m.login.dummy; returns the registration response.
export async function register(server, username) {
  const r = await call(server, "POST", "/_matrix/client/v3/register", {
    body: { username, password: "pw", auth: { type: "m.login.dummy" } },
  });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// A request to a server's federation listener over TLS, trusting only the certificate the
// harness made for it (so the name is checked for real). Resolves to {status, json, text}.
export async function federationCall(server, method, path, { body, headers = {} } = {}) {
  const https = await import("node:https");
  const fs = await import("node:fs");
  const host = server.serverName.replace(/:\d+$/, "");
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: "127.0.0.1", port: server.ports.federation, method, path, servername: host,
      ca: fs.readFileSync(server.certificate), headers: { host: server.serverName, ...headers },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { text += d; });
      res.on("end", () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, json, text, headers: res.headers });
      });
    });
    req.on("error", reject);
    if (body !== undefined) req.write(typeof body === "string" ? body : JSON.stringify(body));
    req.end();
  });
}
