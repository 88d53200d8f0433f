// HTTPS beside HTTP (docs/protocol.md D54): the same routes inside TLS with
// the TLS listener's certificate, a WebSocket over it that counts as secure
// for passwords (D40), the server's own https origin, and a certificate
// reload that new connections see while open ones go on.

import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileAuthority } from "../../src/accounts/authority.ts";
import { hashPassword } from "../../src/accounts/hash.ts";
import { startServer, type RunningServer, type ServerOptions } from "../../src/server.ts";
import { Peer, register, registered } from "../support/peer.ts";
import { makeCertificate, testCertificate, type TestCertificate } from "../support/server.ts";

const servers: RunningServer[] = [];
const peers: Peer[] = [];
let tls: TestCertificate;
let dir: string;

beforeAll(async () => {
  tls = await testCertificate();
  dir = mkdtempSync(join(tmpdir(), "parley-https-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  for (const server of servers.splice(0)) await server.stop();
});

/** Plain TCP, TLS, HTTP and HTTPS, each on a free port. */
function serve(extra: Partial<ServerOptions> = {}): RunningServer {
  const server = startServer({ hostname: "127.0.0.1", port: 0, tls: { ...tls, port: 0 }, http: { port: 0 }, https: { port: 0 }, ...extra });
  servers.push(server);
  return server;
}

async function wss(server: RunningServer, label: string, headers: Record<string, string> = {}, ca = tls.cert): Promise<Peer> {
  const peer = await Peer.connectWebSocket(`wss://127.0.0.1:${server.httpsPort}/ws`, label, headers, ca);
  peers.push(peer);
  return peer;
}

/** An accounts file holding `name` with `password`. */
async function accounts(name: string, password: string): Promise<FileAuthority> {
  const path = join(dir, `accounts-${name}`);
  writeFileSync(path, `${name} ${await hashPassword(new TextEncoder().encode(password))}\n`);
  return FileAuthority.open({ path, requireAccounts: false, maxClaimsPerAddress: 0 }).authority;
}

test("a WebSocket over HTTPS registers with a password no plain transport may carry, and chats with a TCP user", async () => {
  // No address is trusted with a password in clear, loopback neither: only TLS carries one (D40).
  const server = serve({ authority: await accounts("alice", "s3cret pw"), trustPlaintext: [] });
  const plain = await Peer.connectWebSocket(`ws://127.0.0.1:${server.httpPort}/ws`, "alice(ws)");
  peers.push(plain);
  plain.send("REGISTER TOSEND alice\nPassword: s3cret pw\n\n");
  await plain.receives("ERROR 105 Not authorized\n\n");

  const alice = await wss(server, "alice(wss)");
  alice.send("REGISTER TOSEND alice\nPassword: s3cret pw\n\n");
  alice.send("REGISTER TORECV alice\nPassword: s3cret pw\n\n");
  await alice.receives("REGISTERED TOSEND alice\n\nREGISTERED TORECV alice\n\n", 5000);
  const bob = await registered(server.port, "bob");
  peers.push(bob);
  alice.send("SEND bob\nContent-length: 9\n\nover wss!");
  await bob.receives("FORWARD alice\nContent-length: 9\n\nover wss!");
  bob.send("RECEIVED alice\n\n");
  await alice.receives("SENT bob\n\n");
  bob.send("SEND alice\nContent-length: 5\n\nhello");
  await alice.receives("FORWARD bob\nContent-length: 5\n\nhello");
  alice.send("RECEIVED bob\n\n");
  await bob.receives("SENT alice\n\n");
});

test("serves /healthz, /metrics and / over HTTPS, and WebSockets from its own https origin only", async () => {
  const server = serve();
  const own = `https://127.0.0.1:${server.httpsPort}`;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${own}${path}`, { headers, tls: { ca: tls.cert } });
  await wss(server, "counted");
  const health = await get("/healthz");
  expect(health.status).toBe(200);
  expect(await health.json()).toMatchObject({ status: "ok", connections: 1 });
  expect(await (await get("/metrics")).text()).toContain('parley_connections{transport="wss"} 1');
  expect((await get("/")).headers.get("content-type")).toContain("text/html");
  await wss(server, "own origin", { Origin: own });
  // The plain listener's origin is another origin (another scheme and port).
  const upgrade = { Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13" };
  expect((await get("/ws", { ...upgrade, Origin: `http://127.0.0.1:${server.httpPort}` })).status).toBe(403);
});

test("a reloaded certificate serves new HTTPS connections, while an open WebSocket goes on with the old one", async () => {
  const server = serve();
  const before = await wss(server, "before");
  await register(before, "TOSEND", "early");
  await register(before, "TORECV", "early");
  const next = await makeCertificate();
  server.reloadTls(next);
  await expect(wss(server, "old trust")).rejects.toThrow();
  const after = await wss(server, "new trust", {}, next.cert);
  await register(after, "TOSEND", "late");
  await register(after, "TORECV", "late");
  after.send("SEND early\nContent-length: 2\n\nhi");
  await before.receives("FORWARD late\nContent-length: 2\n\nhi");
  before.send("RECEIVED late\n\n");
  await after.receives("SENT early\n\n");
  // The TLS listener took the same certificate.
  const tcp = await Peer.connect(server.tlsPort!, "tls", "127.0.0.1", next.cert);
  peers.push(tcp);
  await register(tcp, "TOSEND", "tcp");
});

test("HTTPS without a certificate is refused before anything listens", () => {
  expect(() => startServer({ hostname: "127.0.0.1", port: 0, https: { port: 0 } })).toThrow(/HTTPS needs a certificate/);
});
