// Ctrl-Z and fg with a real shell's job control: an interactive bash in a
// pseudo-terminal (util-linux `script`) runs the client as a job, as a user's
// terminal would. Shared by the source, `bun run` and binary tests.

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registered } from "../support/peer.ts";
import { Child } from "../support/process.ts";
import { testServer } from "../support/server.ts";

/** Screen text without cursor movement, erase and mode sequences. */
export const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

const prompt = "shell$ ";
const count = (text: string, part: string) => plain(text).split(part).length - 1;

/** `client`: the command that runs `parley client`, flags to be added. */
export function suspendTest(name: string, client: () => readonly string[]): void {
  test(`${name}: Ctrl-Z suspends the client, the shell gets the keyboard, and after fg the client reads it again`, async () => {
    await using server = testServer();
    using bob = await registered(server.port, "bob");
    const dir = mkdtempSync(join(tmpdir(), "parley-job-"));
    writeFileSync(join(dir, "rc"), `PS1='${prompt}'\n`);
    await using shell = new Child(["script", "-qfec", `stty cols 200 rows 24; exec bash --noprofile --rcfile ${join(dir, "rc")} -i`, "/dev/null"], { stdin: "pipe", env: { TERM: "xterm" } }, "shell");
    try {
      await shell.output("stdout", (text) => count(text, prompt) === 1, "the shell's prompt");
      shell.write(`${[...client(), "--host", "127.0.0.1", "--port", String(server.port), "--user", "alice"].join(" ")}\r`);
      await shell.output("stdout", (text) => plain(text).includes("alice> "), "the client's prompt", 10_000);

      shell.write("@bob typed before");
      await shell.output("stdout", (text) => plain(text).includes("alice> @bob typed before"), "the half-typed line");
      shell.write("\x1a");
      await shell.output("stdout", (text) => /Stopped/.test(plain(text)) && count(text, prompt) === 2, "the job stopped and the shell's prompt back");
      shell.write("echo the-shell-reads\r");
      await shell.output("stdout", (text) => count(text, "the-shell-reads") === 2 && count(text, prompt) === 3, "the shell running a command");

      shell.write("fg\r");
      await shell.output("stdout", (text) => plain(text).split("fg\r\n")[1]?.includes("alice> @bob typed before") === true, "the line redrawn after fg");
      shell.write(" and after\r");
      await bob.receives("FORWARD alice\nContent-length: 22\n\ntyped before and after");
      bob.send("RECEIVED alice\n\n");
      await shell.output("stdout", (text) => plain(text).includes("delivered: @bob typed before and after"), "the outcome");

      shell.write("/quit\r");
      await shell.output("stdout", (text) => count(text, prompt) === 4, "the shell's prompt once the client left");
      shell.write("exit\r");
      expect(await shell.exit()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
}
