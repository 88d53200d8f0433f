// `--parley-dir DIR` must run DIR's own src/cli.ts, from DIR, with the same
// server flags: that is what lets one harness measure a change and its base
// back to back. A fake tree whose cli.ts only reports what it was given shows
// which program ran, without building a second parley.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseOptions } from "../../bench/options.ts";
import { startRelay, stopProcess, type Relay } from "../../bench/processes.ts";

// Its --help lists one fairness flag, so only that one of the raised limits is passed.
const fakeCli = `
if (process.argv.includes("--help")) {
  console.log("  --max-pending-forwards <value>\\n  --rate-messages <value>");
  process.exit(0);
}
process.stderr.write("fake.listening port=4321 cwd=" + process.cwd() + " args=" + process.argv.slice(2).join(",") + "\\n");
setInterval(() => {}, 1000);
`;

let dir: string | undefined;
let relay: Relay | undefined;

afterEach(async () => {
  if (relay !== undefined) await stopProcess(relay.proc);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  relay = dir = undefined;
});

describe("bench --parley-dir", () => {
  test("runs the other tree's src/cli.ts server from that tree, with the limit flags it knows", async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), "parley-tree-")));
    mkdirSync(path.join(dir, "src"));
    writeFileSync(path.join(dir, "src", "cli.ts"), fakeCli);
    const options = parseOptions(["--parley-dir", dir]);
    expect(options.parleyDir).toBe(dir);

    relay = await startRelay("parley", "tcp", { maxPendingForwards: 2048 }, options.parleyDir, undefined);
    expect(relay.port).toBe(4321);
    expect(relay.tail).toEqual([`fake.listening port=4321 cwd=${dir} args=server,--port,0,--log-level,info,--rate-messages,10000000,--max-pending-forwards,2048`]);
  });

  test("defaults to this repo and refuses a directory without src/cli.ts", () => {
    expect(parseOptions([]).parleyDir).toBe(path.resolve(import.meta.dir, "../.."));
    expect(() => parseOptions(["--parley-dir", tmpdir()])).toThrow("no src/cli.ts");
  });
});
