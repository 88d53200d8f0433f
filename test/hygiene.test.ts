// No test may be left focused or skipped: a forgotten .only silently drops the
// rest of a file, a .skip silently drops a check.

import { describe, expect, test } from "bun:test";
import { Glob } from "bun";

const root = new URL("..", import.meta.url).pathname;
const marker = new RegExp(String.raw`\b(test|it|describe)\.(only|skip|todo|if|skipIf|todoIf)\(|\bx(it|describe)\(`);

describe("test hygiene", () => {
  test("no test file focuses, skips or defers a test", async () => {
    const offenders: string[] = [];
    for await (const path of new Glob("test/**/*.ts").scan({ cwd: root })) {
      const text = await Bun.file(`${root}${path}`).text();
      text.split("\n").forEach((line, i) => {
        if (marker.test(line) && !line.includes("new RegExp(")) offenders.push(`${path}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
