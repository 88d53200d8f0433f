// The single-file executable: built once with `bun build --compile`, then the
// same chats as from source, the web client it carries, and every protocol
// transcript against it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { Limits, type LimitName } from "../../src/protocol/limits.ts";
import { transcripts } from "../../src/conformance/catalogue.ts";
import { runScenarios } from "../scenarios/runner.ts";
import { Child, root, spawnServer } from "../support/process.ts";
import { testCertificate } from "../support/server.ts";
import { chatTests } from "./chat.ts";
import { suspendTest } from "./job-control.ts";

const dir = mkdtempSync(join(tmpdir(), "parley-binary-"));
const binary = join(dir, "parley");
let built = false;

beforeAll(async () => {
  // The same command as `bun run build`, into a temporary directory.
  const build = Bun.spawn([process.execPath, "build", "--compile", "--minify", join(root, "src", "cli.ts"), "--outfile", binary], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stderr] = await Promise.all([build.exited, new Response(build.stderr).text()]);
  if (code !== 0) throw new Error(`bun build --compile failed (${code}):\n${stderr}`);
  built = true;
}, 60_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const parley = (): readonly string[] => {
  if (!built) throw new Error("the binary was not built");
  return [binary];
};

describe("dist/parley", () => {
  async function run(args: readonly string[]): Promise<Child & { code: number | null }> {
    const child = new Child([...parley(), ...args]);
    const code = await child.exit();
    return Object.assign(child, { code });
  }

  test("prints its version", async () => {
    const version = await run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(`parley ${packageJson.version}\n`);
  });

  test("prints help for itself and both subcommands, every flag with its default", async () => {
    const main = await run(["--help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain("parley server");
    expect(main.stdout).toContain("parley client");
    const server = await run(["server", "--help"]);
    for (const name of Object.keys(Limits) as LimitName[]) {
      const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      expect(server.stdout).toContain(flag);
      expect(server.stdout).toContain(`(default: ${Limits[name].default})`);
    }
    const client = await run(["client", "--help"]);
    for (const flag of ["--host", "--port", "--user", "--listen", "--json", "--no-reconnect"]) expect(client.stdout).toContain(flag);
  });

  test("refuses an unknown command with exit code 2", async () => {
    const bad = await run(["bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown command");
  });

  test("serves the web client from inside itself: the page and the script it names, no files beside it", async () => {
    await using server = await spawnServer([], { parley: parley() });
    const line = await server.line("stderr", (each) => each.includes("server.listening") && each.includes("transport=http"));
    const base = `http://127.0.0.1:${/\bport=(\d+)/.exec(line)![1]}`;
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('<label for="name">Name</label>');
    const script = /<script[^>]*\bsrc="([^"]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const code = await fetch(new URL(script!, `${base}/`));
    expect(code.status).toBe(200);
    expect(code.headers.get("content-type")).toContain("javascript");
    expect(await code.text()).toContain("Content-length");
  }, 20_000);

  test("serves TLS and accounts, and chats over them with its own client and accounts command", async () => {
    const tls = await testCertificate();
    for (const [file, text] of [["cert.pem", tls.cert], ["key.pem", tls.key]] as const) writeFileSync(join(dir, file), text);
    const accounts = join(dir, "accounts");
    for (const [name, password] of [["alice", "a-pw"], ["bob", "b-pw"]] as const) {
      const add = new Child([...parley(), "accounts", "add", name, "--accounts", accounts], { stdin: `${password}\n` });
      expect(await add.exit()).toBe(0);
    }
    await using server = await spawnServer(["--no-plain", "--tls-port", "0", "--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem"), "--accounts", accounts], { parley: parley() });
    const client = (name: string, args: readonly string[], stdin: string, password: string) =>
      new Child([...parley(), "client", "--tls-ca", join(dir, "cert.pem"), "--host", "127.0.0.1", "--port", String(server.port), "--user", name, ...args], { stdin, env: { PARLEY_PASSWORD: password } });
    await using bob = client("bob", ["--json", "--listen"], "", "b-pw");
    await bob.line("stdout", '"event":"connected"');
    await using alice = client("alice", [], "@bob over tls, from the binary\n", "a-pw");
    expect(await alice.exit()).toBe(0);
    await bob.line("stdout", '"text":"over tls, from the binary"');
  }, 20_000);
});

chatTests("dist/parley", parley);

describe("dist/parley client on a terminal", () => {
  suspendTest("dist/parley client", () => [...parley(), "client"]);
});

/** Scenario limits as the server's flags: ackTimeoutMs -> --ack-timeout-ms=150. */
function limitFlags(limits: Partial<Record<LimitName, number>>): string[] {
  return Object.entries(limits).map(([name, value]) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${value}`);
}

runScenarios(
  {
    name: "compiled binary",
    start: async (limits) => {
      const server = await spawnServer(limitFlags(limits), { parley: parley() });
      return { port: server.port, stop: async () => void (await server.stop()) };
    },
  },
  transcripts,
);
