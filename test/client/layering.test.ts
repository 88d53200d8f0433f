// STYLE.md §1-2 as a check for the client: it never imports the server or the
// CLI; the session never imports the terminal; input.ts, render.ts, backoff.ts,
// registration.ts and outcome.ts stay pure (the web client bundles them for
// the browser), and so do the compat reader and the request queue;
// only the terminal-side files (terminal.ts and the modes it runs) touch stdin/stdout.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = join(import.meta.dir, "../../src/client");
const source = (file: string) => readFileSync(join(dir, file), "utf8");

function imports(text: string): string[] {
  return [...text.matchAll(/\b(?:from|import)\s*\(?\s*["']([^"']*)["']/g)].map((match) => match[1]!);
}

describe("client layering", () => {
  const terminalSide = [
    "terminal.ts",
    "options.ts",
    "exit.ts",
    "address.ts",
    "scripted.ts",
    "scripted-output.ts",
    "interactive.ts",
    "connect-prompt.ts",
    "screen.ts",
    "suspend.ts",
  ];
  const files = [
    "connector.ts",
    "channel.ts",
    "link.ts",
    "lenient-reader.ts",
    "requests.ts",
    "retry.ts",
    "session.ts",
    "session-events.ts",
    "session-options.ts",
    "input.ts",
    "render.ts",
    "backoff.ts",
    "registration.ts",
    "outcome.ts",
    ...terminalSide,
  ];

  test("every client file is listed here, so none escapes these rules", () => {
    expect(readdirSync(dir).sort()).toEqual([...files].sort());
  });

  for (const file of files) {
    test(`${file} imports only client, protocol and net modules`, () => {
      const outside = imports(source(file)).filter((spec) => !/^(\.\/|\.\.\/protocol\/|\.\.\/net\/|node:readline$|bun$)/.test(spec) && !(file === "suspend.ts" && spec === "node:fs"));
      expect(outside).toEqual([]);
    });
  }

  test("the session and what it is made of do not import the terminal, and touch no stdin, stdout or console", () => {
    for (const file of ["session.ts", "session-events.ts", "session-options.ts", "link.ts", "channel.ts", "connector.ts", "lenient-reader.ts", "requests.ts", "retry.ts"]) {
      const text = source(file);
      for (const terminal of terminalSide) expect(imports(text)).not.toContain(`./${terminal}`);
      expect(text).not.toMatch(/process\.|console\.|node:readline/);
    }
  });

  test("input.ts, render.ts, backoff.ts, registration.ts, outcome.ts, lenient-reader.ts and requests.ts are pure: no sockets, timers, process or console", () => {
    for (const file of ["input.ts", "render.ts", "backoff.ts", "registration.ts", "outcome.ts", "lenient-reader.ts", "requests.ts"]) {
      expect(source(file)).not.toMatch(/Bun\.|process\.|console\.|setTimeout|setInterval|queueMicrotask/);
      expect(imports(source(file)).every((spec) => spec.startsWith("./") || spec.startsWith("../protocol/"))).toBe(true);
    }
  });
});
