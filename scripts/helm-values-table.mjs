#!/usr/bin/env node
// The Helm chart's values table, from the `## @param <path> <description>` comments in
// helm/periscope/values.yaml and the defaults beside them. With --write it replaces the table in
// helm/periscope/README.md; without, it prints it. The operate test checks the README's table is
// exactly this one and that the schema knows every value.
//
//   node scripts/helm-values-table.mjs --write

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const CHART = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "helm", "periscope");
const HEADER = "| key | description | default |\n|---|---|---|\n";

// [{path, description, value}] in the file's order.
export function documentedValues() {
  const text = fs.readFileSync(path.join(CHART, "values.yaml"), "utf8");
  const values = yaml.load(text);
  return [...text.matchAll(/^\s*## @param (\S+) (.*)$/gm)].map(([, name, description]) => {
    const value = name.split(".").reduce((v, key) => (v === undefined ? undefined : v[key]), values);
    if (value === undefined) throw new Error(`@param ${name} names no value in values.yaml`);
    return { path: name, description: description.trim(), value };
  });
}

// JSON with a space after ':' and ',' as the README shows defaults.
function show(value) {
  return JSON.stringify(value).replace(/":/g, "\": ").replace(/,(?=["{[\dtfn])/g, ", ");
}

export function valuesTable() {
  return HEADER + documentedValues()
    .map((v) => `| \`${v.path}\` | ${v.description} | \`${show(v.value)}\` |\n`).join("");
}

// The table as it stands in the README (from its header to the first line that is not a row).
export function readmeTable() {
  const readme = fs.readFileSync(path.join(CHART, "README.md"), "utf8");
  const start = readme.indexOf(HEADER);
  if (start < 0) throw new Error("README.md has no values table");
  let end = start + HEADER.length;
  while (readme.startsWith("|", end)) end = readme.indexOf("\n", end) + 1;
  return { readme, start, end, table: readme.slice(start, end) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const table = valuesTable();
  if (process.argv.includes("--write")) {
    const { readme, start, end } = readmeTable();
    fs.writeFileSync(path.join(CHART, "README.md"), readme.slice(0, start) + table + readme.slice(end));
  } else {
    process.stdout.write(table);
  }
}
