// The README's tables must agree with the one definition of each limit and
// each error code in src/protocol.

import { describe, expect, test } from "bun:test";
import { errorCloses, errorText, type ErrorCode } from "../src/protocol/errors.ts";
import { Limits, type LimitName } from "../src/protocol/limits.ts";
import { Peer } from "./support/peer.ts";
import { testServer } from "./support/server.ts";

const readme = await Bun.file(new URL("../README.md", import.meta.url)).text();

function row(firstCell: string): string[] | undefined {
  const line = readme.split("\n").find((each) => each.startsWith(`| ${firstCell} |`));
  return line?.split("|").slice(1, -1).map((cell) => cell.trim());
}

describe("README", () => {
  test.each(Object.keys(Limits) as LimitName[])("documents the %s limit with its flag, variable, default, range and meaning", (name) => {
    const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const env = `PARLEY_${flag.replaceAll("-", "_").toUpperCase()}`;
    const { default: value, min, max, what } = Limits[name];
    expect(row(`\`--${flag}\``)).toEqual([`\`--${flag}\``, `\`${env}\``, String(value), `${min} to ${max}`, what]);
  });

  test.each(Object.keys(errorText).map(Number) as ErrorCode[])("documents error %d with its wire text and whether it closes", (code) => {
    const cells = row(String(code));
    expect(cells?.[1]).toBe(errorText[code]);
    expect(cells?.[3]).toBe(errorCloses[code] ? "yes" : "no");
  });

  test("shows the netcat session as a terminal shows it: what the server sent, and each typed line echoed where the cursor was", async () => {
    await using server = testServer();
    using nc = await Peer.connect(server.port, "nc");
    // What is typed (netcat -C ends each line in \r\n), then what the server answers, byte for byte.
    const session: [typed: string[], answer: string][] = [
      [["REGISTER TOSEND alice", ""], "REGISTERED TOSEND alice\n\n"],
      [["REGISTER TORECV alice", ""], "REGISTERED TORECV alice\n\n"],
      [["SEND alice", "Content-length: 5", "", "hello"], "FORWARD alice\nContent-length: 5\n\nhello"],
      [["RECEIVED alice", ""], "SENT alice\n\n"],
    ];
    let screen = "$ nc -C 127.0.0.1 5050\n";
    for (const [typed, answer] of session) {
      for (const line of typed) {
        nc.send(`${line}\r\n`);
        screen += `${line}\n`;
      }
      await nc.receives(answer);
      screen += answer;
    }
    expect(/```\n(\$ nc -C [\s\S]*?)```/.exec(readme)?.[1]).toBe(screen);
  });

  test("shows the two setup commands", () => {
    expect(readme).toContain("bun run server");
    expect(readme).toContain("bun run test");
  });
});
