// STYLE.md §2 as a check: src/protocol/ imports only its own siblings and uses
// no runtime, process, timer or console API, so the parser never sees a socket.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dir, "../../src/protocol");

const forbidden = ["Bun.", "process.", "setTimeout", "setInterval", "setImmediate", "queueMicrotask", "console.", "require("];

/** Module specifiers of static imports/exports, side-effect imports and dynamic imports. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const re of [/\bfrom\s*["']([^"']*)["']/g, /\bimport\s*["']([^"']*)["']/g, /\bimport\s*\(\s*["']([^"']*)["']/g]) {
    for (const match of source.matchAll(re)) found.push(match[1]!);
  }
  return found;
}

/** Why `source` would break the rule; empty when it is pure. */
function impurities(source: string): string[] {
  const problems = specifiers(source)
    .filter((s) => !/^\.\/[A-Za-z0-9_-]+\.ts$/.test(s))
    .map((s) => `imports ${JSON.stringify(s)}`);
  for (const word of forbidden) if (source.includes(word)) problems.push(`mentions ${word}`);
  if (/\bimport\s*\(/.test(source) && !/\bimport\s*\(\s*["']/.test(source)) problems.push("imports a computed module");
  return problems;
}

const files = readdirSync(dir).filter((f) => f.endsWith(".ts")).sort();

describe("protocol purity", () => {
  test("finds the protocol modules to check", () => {
    expect(files).toEqual(expect.arrayContaining(["ascii.ts", "errors.ts", "framer.ts", "limits.ts", "messages.ts", "names.ts"]));
  });

  for (const file of files) {
    test(`${file} imports only from src/protocol and uses no Bun, process, timer or console API`, () => {
      expect(impurities(readFileSync(join(dir, file), "utf8"))).toEqual([]);
    });
  }

  test("the check itself catches each kind of impurity", () => {
    const cases = [
      'import { x } from "../server/registry.ts";',
      'import type { Y } from "../client/session.ts";',
      'export { z } from "../net/socket.ts";',
      'import { readFileSync } from "node:fs";',
      'import { RedisClient } from "bun";',
      'import "./sub/dir.ts";',
      'const m = await import("../cli.ts");',
      "const port = Bun.env.PORT;",
      "if (process.env.DEBUG) {}",
      "setTimeout(() => {}, 1);",
      'console.log("frame");',
    ];
    for (const source of cases) expect(impurities(source), source).not.toEqual([]);
    expect(impurities('import { ascii } from "./ascii.ts";\nimport type { Role } from "./messages.ts";')).toEqual([]);
  });
});
