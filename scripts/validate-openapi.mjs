#!/usr/bin/env node
// Validates an OpenAPI document (edge/openapi.json, or one served at /v1/openapi.json).
//
//   node scripts/validate-openapi.mjs <path-or-http-url> [--list]
//
// 1. The document must match the OpenAPI JSON Schema of its version and every internal `$ref`
//    must resolve, as checked by the independent validator @seriousme/openapi-schema-validator.
// 2. Checks that schema validation cannot express: operationIds are unique; every `{param}` in
//    a path template has a `path` parameter and the other way round; every schema compiles
//    under JSON Schema 2020-12 with unknown keywords refused (a typo such as `requried` is an
//    error, not a silently ignored keyword); every example validates against its schema.
//
// On success it prints one JSON line {"valid":true,"version":"3.1.0","paths":N,"operations":M}
// and, with --list, one `METHOD path` line per documented operation. On failure it prints the
// errors to stderr, {"valid":false,"errors":N} to stdout and exits 1; usage errors and a document
// that cannot be loaded exit 2.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import process from "node:process";

import { Validator } from "@seriousme/openapi-schema-validator";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
// Keywords OpenAPI 3.1 adds to JSON Schema (the OAS base dialect).
const OAS_KEYWORDS = ["discriminator", "xml", "externalDocs", "example"];

function usage(message) {
  if (message) console.error(message);
  console.error("usage: node scripts/validate-openapi.mjs <path-or-http-url> [--list]");
  process.exit(2);
}

async function load(source) {
  let text;
  if (/^https?:\/\//i.test(source)) {
    const resp = await fetch(source, { headers: { accept: "application/json" } });
    text = await resp.text();
    if (!resp.ok) {
      throw new Error(`GET ${source}: HTTP ${resp.status}: ${text.slice(0, 300)}`);
    }
    const type = resp.headers.get("content-type") ?? "";
    if (!/json/i.test(type)) {
      throw new Error(`GET ${source}: content-type is \`${type}\`, expected JSON`);
    }
  } else {
    text = await readFile(source, "utf8");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${source} is not valid JSON: ${e.message}`);
  }
}

/** Every operation as [METHOD, path, operation], in document order. */
function operations(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      if (item && typeof item === "object" && item[method]) {
        out.push([method.toUpperCase(), path, item[method]]);
      }
    }
  }
  return out;
}

/** Follows a local `$ref` (`#/components/...`) once. */
function deref(doc, node) {
  let seen = 0;
  while (node && typeof node === "object" && typeof node.$ref === "string" && node.$ref.startsWith("#/")) {
    if (++seen > 20) throw new Error(`$ref loop at ${node.$ref}`);
    node = node.$ref
      .slice(2)
      .split("/")
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((o, k) => (o == null ? undefined : o[k]), doc);
  }
  return node;
}

function checkOperations(doc) {
  const errors = [];
  const ids = new Map();
  for (const [method, path, op] of operations(doc)) {
    const where = `${method} ${path}`;
    if (typeof op.operationId === "string") {
      if (ids.has(op.operationId)) {
        errors.push(`${where}: operationId \`${op.operationId}\` is also used by ${ids.get(op.operationId)}`);
      }
      ids.set(op.operationId, where);
    }
    const params = [...(doc.paths[path].parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(doc, p));
    const inPath = new Set(params.filter((p) => p?.in === "path").map((p) => p.name));
    const templated = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]));
    for (const name of templated) {
      if (!inPath.has(name)) errors.push(`${where}: \`{${name}}\` has no path parameter`);
    }
    for (const name of inPath) {
      if (!templated.has(name)) errors.push(`${where}: path parameter \`${name}\` is not in the path`);
    }
    const seen = new Set();
    for (const p of params) {
      const key = `${p?.in}:${p?.name}`;
      if (seen.has(key)) errors.push(`${where}: parameter \`${p.name}\` (${p.in}) is listed twice`);
      seen.add(key);
    }
  }
  return errors;
}

/** JSON Schema checks with the Ajv the validator itself uses (resolved from its install). */
function checkSchemas(doc) {
  const require = createRequire(import.meta.resolve("@seriousme/openapi-schema-validator"));
  const Ajv2020 = require("ajv/dist/2020.js").default;
  const addFormats = require("ajv-formats").default ?? require("ajv-formats");
  const ajv = new Ajv2020({
    allErrors: true,
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    validateFormats: true,
  });
  addFormats(ajv);
  const inRange = (lo, hi) => ({ type: "number", validate: (n) => Number.isInteger(n) && n >= lo && n <= hi });
  ajv.addFormat("int32", inRange(-(2 ** 31), 2 ** 31 - 1));
  ajv.addFormat("int64", inRange(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addFormat("double", { type: "number", validate: () => true });
  for (const k of OAS_KEYWORDS) ajv.addKeyword(k);

  const errors = [];
  const base = "https://openapi.invalid/document";
  // Component schemas under their own ids; `#/components/schemas/X` refs point at them.
  const rewrite = (node) => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== "object") return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] =
        k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")
          ? `${base}/schemas/${v.slice("#/components/schemas/".length)}`
          : rewrite(v);
    }
    return out;
  };
  const components = doc.components?.schemas ?? {};
  for (const [name, schema] of Object.entries(components)) {
    try {
      ajv.addSchema(rewrite(schema), `${base}/schemas/${name}`);
    } catch (e) {
      errors.push(`components/schemas/${name}: ${e.message}`);
    }
  }
  const compiled = new Map();
  const compile = (schema, where) => {
    const key = JSON.stringify(schema);
    if (!compiled.has(key)) {
      try {
        compiled.set(key, ajv.compile(rewrite(schema)));
      } catch (e) {
        errors.push(`${where}: schema does not compile: ${e.message}`);
        compiled.set(key, null);
      }
    }
    return compiled.get(key);
  };
  const check = (schema, value, where) => {
    const validate = compile(schema, where);
    if (validate && !validate(value)) {
      for (const e of validate.errors) {
        errors.push(`${where}: example does not match its schema: ${e.instancePath || "/"} ${e.message}`);
      }
    }
  };
  for (const name of Object.keys(components)) {
    const where = `components/schemas/${name}`;
    const schema = { $ref: `#/components/schemas/${name}` };
    compile(schema, where);
    for (const [i, ex] of (components[name].examples ?? []).entries()) check(schema, ex, `${where}/examples/${i}`);
  }

  // Examples of parameters, headers and media types, wherever they are.
  const visit = (node, where) => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) {
      node.forEach((n, i) => visit(n, `${where}/${i}`));
      return;
    }
    const isSchemaHolder = node.schema && typeof node.schema === "object" && !where.endsWith("/components/schemas");
    if (isSchemaHolder) {
      const schema = node.schema;
      if ("example" in node) check(schema, node.example, `${where}/example`);
      for (const [name, ex] of Object.entries(node.examples ?? {})) {
        const example = deref(doc, ex);
        if (example && "value" in example) check(schema, example.value, `${where}/examples/${name}`);
      }
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === "schema" || (where === "#/components" && k === "schemas")) continue;
      visit(v, `${where}/${k}`);
    }
  };
  visit(doc.paths, "#/paths");
  visit(doc.components, "#/components");
  return errors;
}

async function main() {
  const args = process.argv.slice(2);
  const list = args.includes("--list");
  const unknown = args.filter((a) => a.startsWith("--") && a !== "--list");
  const sources = args.filter((a) => !a.startsWith("--"));
  if (unknown.length) usage(`unknown option ${unknown.join(", ")}`);
  if (sources.length !== 1) usage();

  let doc;
  try {
    doc = await load(sources[0]);
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    console.error(`${sources[0]}: the document is not a JSON object`);
    process.exit(2);
  }

  const validator = new Validator();
  // The validator may annotate what it is given; keep our copy pristine.
  const result = await validator.validate(structuredClone(doc));
  const errors = [];
  if (!result.valid) {
    const found = Array.isArray(result.errors) ? result.errors : [result.errors];
    for (const e of found) {
      errors.push(
        typeof e === "string"
          ? e
          : `${e.instancePath || "/"} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`,
      );
    }
  } else {
    errors.push(...checkOperations(doc));
    errors.push(...checkSchemas(doc));
  }

  if (errors.length) {
    for (const e of errors) console.error(e);
    console.log(JSON.stringify({ valid: false, errors: errors.length }));
    process.exit(1);
  }
  const ops = operations(doc);
  console.log(
    JSON.stringify({
      valid: true,
      version: doc.openapi,
      paths: Object.keys(doc.paths ?? {}).length,
      operations: ops.length,
    }),
  );
  if (list) {
    for (const [method, path] of ops) console.log(`${method} ${path}`);
  }
}

await main();
