// The README's "Testing your own server" must agree with the kit: a row for
// every flag, and every deviation named.

import { describe, expect, test } from "bun:test";
import { conformanceFlags } from "../../src/cli/conformance.ts";
import { flagName } from "../../src/cli/flags.ts";
import { Deviations } from "../../src/conformance/deviations.ts";

const readme = await Bun.file(new URL("../../README.md", import.meta.url)).text();
const section = readme.slice(readme.indexOf("## Testing your own server"), readme.indexOf("## Architecture"));

describe("README, Testing your own server", () => {
  test("has a row for every flag of parley conformance", () => {
    const flags = Object.keys(conformanceFlags).filter((key) => key !== "help").map((key) => `--${flagName(key)}`);
    const rows = section.split("\n").filter((line) => line.startsWith("| `--")).map((line) => /^\| `(--[a-z-]+)/.exec(line)![1]);
    expect(rows).toEqual(flags);
  });

  test("names every deviation the kit reports", () => {
    const row = section.split("\n").find((line) => line.startsWith("| `DEVIATION` |"))!;
    for (const name of Object.keys(Deviations)) expect(row).toContain(`\`${name}\``);
  });
});
