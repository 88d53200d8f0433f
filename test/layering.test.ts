// The dependency direction of src/ (README, "Architecture") as a check:
// each part imports only the parts below it, and the core touches no
// runtime API, so every transport (and later a cluster node) plugs into it alike.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const src = join(import.meta.dir, "../src");

/** What each top-level part of src/ may import, besides itself. */
const allowed: Record<string, readonly string[]> = {
  protocol: [],
  core: ["protocol"],
  net: ["protocol"],
  transports: ["core", "net", "protocol", "web"],
  client: ["net", "protocol"],
  // The browser client bundles protocol and the client's pure files (test/client/layering.test.ts).
  web: ["client", "protocol"],
  accounts: ["core", "protocol"],
  cluster: ["core", "protocol"],
  // The interop kit drives servers over the wire only: it shares nothing with the server's code.
  conformance: ["protocol"],
  "server.ts": ["core", "transports", "protocol", "cluster"],
};

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) yield* sources(join(dir, entry.name));
    else if (entry.name.endsWith(".ts")) yield join(dir, entry.name);
  }
}

/** The top-level part of src/ a path is in: a folder, or a file at the top. */
function part(path: string): string {
  return relative(src, path).split("/")[0]!;
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/\b(?:from|import)\s*\(?\s*["'](\.[^"']*)["']/g)].map((match) => join(file, "..", match[1]!));
}

describe("layering", () => {
  for (const file of sources(src)) {
    const from = part(file);
    const may = allowed[from];
    if (may === undefined) continue; // cli: the composition of everything
    test(`${relative(src, file)} imports only ${[from, ...may].join(", ")}`, () => {
      const outside = relativeImports(file).filter((target) => part(target) !== from && !may.includes(part(target)));
      expect(outside.map((target) => relative(src, target))).toEqual([]);
    });
  }

  test("the NATS packages are loaded only by the cluster, and only when it is joined", () => {
    for (const file of sources(src)) {
      const text = readFileSync(file, "utf8");
      const loads = [...text.matchAll(/^import (?!type)[^;]*from "@nats-io\/[^"]+"/gm)];
      expect(loads.map((match) => match[0]), relative(src, file)).toEqual([]);
    }
  });

  test("the core uses no runtime, process or console API", () => {
    for (const file of sources(join(src, "core"))) {
      expect(readFileSync(file, "utf8"), relative(src, file)).not.toMatch(/\bBun\.|\bprocess\.|\bconsole\.|from "bun"|from "node:/);
    }
  });
});
