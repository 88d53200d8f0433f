// `bun run cluster`: a 3-node parley cluster on this machine, to try one. It
// starts a nats-server with JetStream (Debian's; installed with apt-get when
// missing, as root) in a temporary directory, then three `parley server
// --cluster` nodes on TCP 5050-5052 and HTTP 5080-5082, and stops them all on
// Ctrl-C. Flags after `--` go to every node.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const natsPort = 4222;
const nodes = [0, 1, 2];
const extra = process.argv.slice(2);

if (Bun.which("nats-server") === null) {
  if (process.getuid?.() !== 0) {
    process.stderr.write("parley: a local cluster needs nats-server: run  sudo apt-get install -y nats-server\n");
    process.exit(1);
  }
  for (const args of [["update"], ["install", "-y", "--no-install-recommends", "nats-server"]]) {
    const apt = Bun.spawn(["apt-get", ...args], { stdin: "ignore", stdout: "inherit", stderr: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if ((await apt.exited) !== 0) process.exit(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), "parley-cluster-"));
const nats = Bun.spawn(["nats-server", "-js", "-a", "127.0.0.1", "-p", String(natsPort), "-sd", dir], { stdout: "ignore", stderr: "pipe" });
// Ready once it says so; a port in use ends it, and says why.
const ready = await (async () => {
  let text = "";
  for await (const chunk of nats.stderr) {
    text += new TextDecoder().decode(chunk);
    if (text.includes("Server is ready")) return true;
  }
  process.stderr.write(text);
  return false;
})();
if (!ready) {
  process.stderr.write(`parley: nats-server did not start on 127.0.0.1:${natsPort}\n`);
  process.exit(1);
}

const servers = nodes.map((i) =>
  Bun.spawn(
    [process.execPath, join(import.meta.dir, "..", "src", "cli.ts"), "server", "--cluster", `nats://127.0.0.1:${natsPort}`, "--node-name", `node${i}`, "--port", String(5050 + i), "--http-port", String(5080 + i), ...extra],
    { stdin: "ignore", stdout: "inherit", stderr: "inherit" },
  ),
);

process.stdout.write(
  [
    "",
    "parley: 3 nodes on one NATS. Try, in other terminals:",
    "  bun run client -- --host 127.0.0.1 --port 5050 --user alice",
    "  bun run client -- --host 127.0.0.1 --port 5052 --user bob",
    "  the web client at http://127.0.0.1:5081/",
    "Ctrl-C stops everything.",
    "",
  ].join("\n"),
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  for (const server of servers) server.kill("SIGTERM");
  await Promise.all(servers.map((server) => server.exited));
  nats.kill("SIGTERM");
  await nats.exited;
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
// A node that exits by itself (a port in use, a bad flag) takes the rest down.
await Promise.race(servers.map((server) => server.exited));
await stop();
