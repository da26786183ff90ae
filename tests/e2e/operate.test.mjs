// The operator's side (issue "Operate it"): the Helm chart lints and renders in every mode, its
// manifests are valid Kubernetes objects, bad values fail through the schema with a clear
// message, the alert rules pass promtool's checks and unit tests, and every metric the Grafana
// dashboard and the alerts query is exported by the running mesh.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "node:test";
import yaml from "js-yaml";
import { ROOT, startPeriscope } from "./harness.mjs";
import { call, register } from "./http.mjs";
import { documentedValues, readmeTable, valuesTable } from "../../scripts/helm-values-table.mjs";

const CHART = path.join(ROOT, "helm", "periscope");
const HELM = process.env.PERISCOPE_HELM ?? path.join(ROOT, ".periscope", "tools", "helm");
const helmHome = fs.mkdtempSync(path.join(os.tmpdir(), "periscope-helm-"));
const helmEnv = {
  ...process.env,
  HELM_CONFIG_HOME: path.join(helmHome, "config"),
  HELM_CACHE_HOME: path.join(helmHome, "cache"),
  HELM_DATA_HOME: path.join(helmHome, "data"),
};
// The monitoring CRDs, as a cluster with the Prometheus Operator has them.
const CRDS = ["--api-versions", "monitoring.coreos.com/v1/ServiceMonitor", "--api-versions", "monitoring.coreos.com/v1/PrometheusRule"];
const VALUES = { default: [], mesh: ["-f", path.join(CHART, "ci", "mesh-values.yaml")], monolith: ["-f", path.join(CHART, "ci", "monolith-values.yaml")] };

function helm(args) {
  return spawnSync(HELM, args, { env: helmEnv, encoding: "utf8" });
}

// kubernetes-models class for each built-in kind the chart renders.
async function modelFor(apiVersion, kind) {
  const modules = {
    "v1": "kubernetes-models/v1",
    "apps/v1": "kubernetes-models/apps/v1",
    "policy/v1": "kubernetes-models/policy/v1",
    "autoscaling/v2": "kubernetes-models/autoscaling/v2",
    "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  };
  const module = modules[apiVersion];
  if (!module) return undefined;
  return (await import(module))[kind];
}

test("the Helm chart", async (t) => {
  await t.test("helm lint --strict passes with the default, mesh and monolith values", () => {
    for (const [name, values] of Object.entries(VALUES)) {
      const r = helm(["lint", "--strict", CHART, ...values]);
      assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
    }
  });

  await t.test("every rendered manifest is a valid Kubernetes object of the expected kinds", async () => {
    for (const [name, values] of Object.entries(VALUES)) {
      const r = helm(["template", "t", CHART, ...values, ...CRDS]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      const docs = yaml.loadAll(r.stdout).filter(Boolean);
      const kinds = new Set();
      for (const doc of docs) {
        kinds.add(doc.kind);
        const Model = await modelFor(doc.apiVersion, doc.kind);
        if (Model) {
          new Model(doc).validate();  // throws, naming the field, if the object is malformed
        } else {
          assert.equal(doc.apiVersion, "monitoring.coreos.com/v1", `${doc.kind} has no model`);
          assert.ok(doc.spec && (doc.spec.endpoints || doc.spec.groups), `${doc.kind} has a spec`);
        }
        assert.equal(doc.metadata.labels["app.kubernetes.io/instance"], "t", `${doc.kind} ${doc.metadata.name} labels`);
      }
      const expected = name === "monolith"
        ? ["ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget", "Ingress", "ServiceMonitor", "PrometheusRule"]
        : name === "mesh"
          ? ["ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Ingress", "ServiceMonitor", "PrometheusRule"]
          : ["ConfigMap", "Secret", "Deployment", "Service", "PodDisruptionBudget"];
      for (const kind of expected) assert.ok(kinds.has(kind), `${name}: renders a ${kind}`);
      const deployments = docs.filter((d) => d.kind === "Deployment");
      assert.equal(deployments.length, name === "monolith" ? 1 : 6, `${name}: one Deployment per component`);
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.equal(pod.containers[0].securityContext.readOnlyRootFilesystem, true);
        assert.ok(pod.containers[0].readinessProbe, `${d.metadata.name} has a readiness probe`);
      }
    }
  });

  await t.test("a component's securityContext keys replace the chart-wide ones for it alone", () => {
    const r = helm(["template", "t", CHART, "--set", "components.gateway.securityContext.readOnlyRootFilesystem=false"]);
    assert.equal(r.status, 0, r.stderr);
    const byComponent = Object.fromEntries(yaml.loadAll(r.stdout).filter((d) => d?.kind === "Deployment")
      .map((d) => [d.metadata.labels["app.kubernetes.io/component"], d.spec.template.spec.containers[0].securityContext]));
    assert.equal(byComponent.gateway.readOnlyRootFilesystem, false);
    assert.deepEqual(byComponent.gateway.capabilities, { drop: ["ALL"] }, "other keys stay");
    assert.equal(byComponent.syncapi.readOnlyRootFilesystem, true);
  });

  await t.test("a component's own ports apply to its container, probes, Service and address", () => {
    const r = helm(["template", "t", CHART, "--set", "components.syncapi.ports.grpc=7171",
      "--set", "components.gateway.ports.client=8080"]);
    assert.equal(r.status, 0, r.stderr);
    const docs = yaml.loadAll(r.stdout).filter(Boolean);
    const of = (kind, component) => docs.find((d) => d.kind === kind && d.metadata.labels["app.kubernetes.io/component"] === component);
    const portNumbers = (component) => {
      const container = of("Deployment", component).spec.template.spec.containers[0];
      return {
        container: Object.fromEntries(container.ports.map((p) => [p.name, p.containerPort])),
        service: Object.fromEntries(of("Service", component).spec.ports.map((p) => [p.name, p.port])),
        readiness: container.readinessProbe.grpc?.port,
      };
    };
    assert.deepEqual(portNumbers("syncapi"), { container: { grpc: 7171, "http-metrics": 9464 }, service: { grpc: 7171, "http-metrics": 9464 }, readiness: 7171 });
    assert.equal(portNumbers("roomserver").container.grpc, 7070, "others keep the chart-wide port");
    assert.equal(portNumbers("gateway").container["http-client"], 8080);
    assert.equal(portNumbers("gateway").service["http-client"], 8080);
    const config = yaml.load(docs.find((d) => d.kind === "ConfigMap" && d.data?.["periscope.yaml"]).data["periscope.yaml"]);
    assert.equal(config.syncapi.address, "t-periscope-syncapi:7171");
    assert.equal(config.syncapi.grpc_listen, "0.0.0.0:7171");
    assert.equal(config.roomserver.address, "t-periscope-roomserver:7070");
    assert.equal(config.gateway.client_listen, "0.0.0.0:8080");
  });

  await t.test("the README's values table is the values.yaml @param comments, and the schema knows each value", () => {
    assert.equal(readmeTable().table, valuesTable(), "run: node scripts/helm-values-table.mjs --write");
    const schema = JSON.parse(fs.readFileSync(path.join(CHART, "values.schema.json"), "utf8"));
    for (const { path: name } of documentedValues()) {
      const node = name.split(".").reduce((s, key) => s?.properties?.[key], schema);
      assert.ok(node, `values.schema.json has no entry for ${name}`);
    }
  });

  await t.test("the rendered configuration is the binaries' schema", () => {
    const r = helm(["template", "t", CHART, "--show-only", "templates/configmap.yaml"]);
    assert.equal(r.status, 0, r.stderr);
    const config = yaml.load(yaml.load(r.stdout).data["periscope.yaml"]);
    const sample = yaml.load(fs.readFileSync(path.join(ROOT, "periscope.sample.yaml"), "utf8"));
    // Same sections and keys as the sample (the binaries refuse unknown keys).
    for (const [section, value] of Object.entries(config)) {
      assert.ok(section in sample, `unknown section ${section}`);
      if (value && typeof value === "object") {
        for (const key of Object.keys(value)) {
          if (key === "address") continue;  // optional, not in the sample
          assert.ok(key in sample[section], `unknown key ${section}.${key}`);
        }
      }
    }
    assert.equal(config.syncapi.address, "t-periscope-syncapi:7070");
  });

  await t.test("bad values fail helm lint through the schema, naming the value", () => {
    const cases = [
      [["--set", "components.syncapi.replicas=-1"], /components\.syncapi\.replicas: Must be greater than or equal to 0/],
      [["--set", "components.syncapi.replicas=2"], /components\.syncapi\.replicas: Must be less than or equal to 1/],
      [["--set", "components.roomserver.replicas=3"], /components\.roomserver\.replicas: Must be less than or equal to 1/],
      [["--set", "components.federationsender.replicas=2"], /components\.federationsender\.replicas: Must be less than or equal to 1/],
      [["--set", "mode=sideways"], /mode: mode must be one of the following: "mesh", "monolith"/],
      [["--set", "nats.url=http://nats:4222"], /nats\.url: Does not match pattern/],
      [["--set", "mode=monolith", "--set", "autoscaling.gateway.enabled=true"], /enabled: enabled does not match: false|Must validate "then"/],
      [["--set", "components.gateway.replicaz=2"], /Additional property replicaz is not allowed/],
      [["--set", "components.userapi.ports.client=8008"], /components\.userapi\.ports: Additional property client is not allowed/],
      [["--set", "components.syncapi.ports.grpc=70000"], /components\.syncapi\.ports\.grpc: Must be less than or equal to 65535/],
      [["--set", "terminationGracePeriodSeconds=5"], /terminationGracePeriodSeconds: Must be greater than or equal to 15/],
    ];
    for (const [args, message] of cases) {
      const r = helm(["lint", "--strict", CHART, ...args]);
      assert.notEqual(r.status, 0, `${args.join(" ")} should fail`);
      assert.match(r.stdout + r.stderr, message, args.join(" "));
    }
  });

  await t.test("the signing key the chart generates is in periscope-keygen's format", () => {
    const r = helm(["template", "t", CHART, "--show-only", "templates/signing-key-secret.yaml"]);
    assert.equal(r.status, 0, r.stderr);
    const key = Buffer.from(yaml.load(r.stdout).data["signing.key"], "base64").toString();
    assert.match(key, /^ed25519 a_[A-Za-z0-9]{4} [A-Za-z0-9+/]{43}\n$/);
    assert.equal(Buffer.from(key.split(" ")[2].trim(), "base64").length, 32);
  });

  await t.test("the federation listener gets a TLS pair for the server name, or plain HTTP only when asked", async () => {
    const { X509Certificate, createPrivateKey } = await import("node:crypto");
    const r = helm(["template", "t", CHART, "--set", "serverName=matrix.example.org",
      "--show-only", "templates/federation-tls-secret.yaml"]);
    assert.equal(r.status, 0, r.stderr);
    const secret = yaml.load(r.stdout);
    assert.equal(secret.type, "kubernetes.io/tls");
    const cert = new X509Certificate(Buffer.from(secret.data["tls.crt"], "base64"));
    assert.equal(cert.checkHost("matrix.example.org"), "matrix.example.org");
    assert.ok(cert.checkPrivateKey(createPrivateKey(Buffer.from(secret.data["tls.key"], "base64"))));
    const config = (args) => {
      const c = helm(["template", "t", CHART, ...args, "--show-only", "templates/configmap.yaml"]);
      assert.equal(c.status, 0, c.stderr);
      return yaml.load(yaml.load(c.stdout).data["periscope.yaml"]).federation;
    };
    assert.equal(config([]).tls_certificate, "/etc/periscope/federation-tls/tls.crt");
    const plain = config(["--set", "federation.plainHttp=true"]);
    assert.equal(plain.plain_http, true);
    assert.equal(plain.tls_certificate, undefined);
    const all = helm(["template", "t", CHART, "--set", "federation.plainHttp=true"]);
    assert.equal(all.status, 0, all.stderr);
    assert.doesNotMatch(all.stdout, /federation-tls/);
  });
});

test("the alert rules pass promtool's checks and unit tests", () => {
  const files = path.join(CHART, "files");
  execFileSync("promtool", ["check", "rules", path.join(files, "alerts.yaml")], { stdio: "pipe" });
  execFileSync("promtool", ["test", "rules", path.join(files, "alerts_test.yaml")], { stdio: "pipe", cwd: files });
});

// Metric names in PromQL: identifiers that start one of Periscope's or the gRPC metric families.
function queriedMetrics() {
  const names = new Set();
  const dashboard = JSON.parse(fs.readFileSync(path.join(CHART, "files", "dashboard.json"), "utf8"));
  const exprs = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      for (const target of p.targets ?? []) exprs.push(target.expr);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list) if (typeof v.query === "string") exprs.push(v.query);
  const rules = yaml.load(fs.readFileSync(path.join(CHART, "files", "alerts.yaml"), "utf8"));
  for (const group of rules.groups) for (const rule of group.rules) exprs.push(rule.expr);
  for (const expr of exprs) {
    // Label matchers and grouping clauses name labels, not metrics.
    const metricsOnly = expr.replace(/\{[^}]*\}/g, "").replace(/\b(?:by|without)\s*\([^)]*\)/g, "");
    for (const m of metricsOnly.matchAll(/\b((?:periscope|grpc)_[a-z0-9_]+)\b/g)) names.add(m[1]);
  }
  return names;
}

test("every metric the dashboard and the alerts query is exported by the running mesh", async (t) => {
  const server = await startPeriscope({ mode: "mesh", env: { PERISCOPE_PEEKING__LOCAL_PEEK_LIFETIME: "2s" } });
  t.after(() => server.destroy());
  // Traffic that touches every family: accounts, a room, a message, syncs, a peek that expires.
  const alice = await register(server, "alice");
  const bob = await register(server, "bob");
  const room = await call(server, "POST", "/_matrix/client/v3/createRoom", {
    token: alice.access_token,
    body: { initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "world_readable" } }] },
  });
  assert.equal(room.status, 200, room.text);
  const roomId = encodeURIComponent(room.json.room_id);
  await call(server, "PUT", `/_matrix/client/v3/rooms/${roomId}/send/m.room.message/t1`, { token: alice.access_token, body: { msgtype: "m.text", body: "hi" } });
  await call(server, "POST", `/_matrix/client/v3/peek/${roomId}`, { token: bob.access_token });
  const first = await call(server, "GET", "/_matrix/client/v3/sync", { token: bob.access_token });
  await call(server, "GET", `/_matrix/client/v3/sync?since=${first.json.next_batch}&timeout=500`, { token: bob.access_token });
  await new Promise((r) => setTimeout(r, 3500));  // the peek lapses and the expirer retires it

  const exported = new Set();
  for (const url of Object.values(server.metricsUrls)) {
    const text = await (await fetch(url)).text();
    for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{| )/gm)) exported.add(m[1]);
  }
  const queried = queriedMetrics();
  assert.ok(queried.size >= 25, `the dashboard and the alerts query ${queried.size} metrics`);
  const missing = [...queried].filter((name) => !exported.has(name)).sort();
  assert.deepEqual(missing, [], `queried but not exported: ${missing.join(", ")}`);
});
