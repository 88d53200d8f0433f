// Bad usage as a new user meets it: each mistake is one line on stderr, exit
// 2, and points at a help that lists the flags it is about; -h works wherever
// --help does.

import { describe, expect, test } from "bun:test";
import { Child, fromSource } from "../support/process.ts";

async function run(args: readonly string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = new Child([...fromSource, ...args], { stdin });
  const code = await child.exit();
  return { code, stdout: child.stdout, stderr: child.stderr };
}

describe("usage errors", () => {
  const mistakes: { args: readonly string[]; help: string; flag: string }[] = [
    { args: ["client", "--colour"], help: "parley client --help", flag: "--no-reconnect" },
    { args: ["client", "--user", "not a name"], help: "parley client --help", flag: "--user" },
    { args: ["client", "--port", "0"], help: "parley client --help", flag: "--port" },
    { args: ["client", "--host", "127.0.0.1:5050", "--port", "6000"], help: "parley client --help", flag: "--host" },
    { args: ["client", "--json"], help: "parley client --help", flag: "--json" },
    { args: ["client", "--compat", "--presence", "--user", "alice"], help: "parley client --help", flag: "--compat" },
    { args: ["server", "--port", "-1"], help: "parley server --help", flag: "--max-body-bytes" },
    { args: ["server", "--tls-cert", "x.pem"], help: "parley server --help", flag: "--tls-key" },
    { args: ["accounts", "add"], help: "parley accounts --help", flag: "--accounts" },
  ];
  for (const { args, help, flag } of mistakes) {
    test(`${args.join(" ")}: exit 2, one line, pointing at ${help}, which lists ${flag}`, async () => {
      const result = await run(args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(new RegExp(`^parley: [^\\n]+ \\(see ${help}\\)\\n$`));
      const shown = await run(help.split(" ").slice(1));
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain("Flags");
      expect(shown.stdout).toContain(flag);
    });
  }

  test("an unknown command points at parley --help, which names each command's help", async () => {
    const result = await run(["chat"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('parley: unknown command "chat" (see parley --help)\n');
    const main = await run(["--help"]);
    for (const each of ["parley server --help", "parley client --help", "parley accounts --help"]) expect(main.stdout).toContain(each);
  });

  for (const args of [["-h"], ["server", "-h"], ["client", "-h"], ["accounts", "-h"], ["accounts", "add", "-h"]]) {
    test(`parley ${args.join(" ")} prints the same help as --help`, async () => {
      const short = await run(args);
      const long = await run(args.map((arg) => (arg === "-h" ? "--help" : arg)));
      expect(short.code).toBe(0);
      expect(short.stdout).toBe(long.stdout);
      expect(short.stdout).not.toBe("");
    });
  }
});
