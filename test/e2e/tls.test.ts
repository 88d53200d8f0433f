// TLS end to end: `parley server --tls-cert --tls-key` and `parley client
// --tls` as real processes (docs/protocol.md §7 "TLS"), the errors a user meets
// when something is wrong, and a certificate reloaded on SIGHUP.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Child, fromSource, spawnServer } from "../support/process.ts";
import { Peer, registered } from "../support/peer.ts";
import { makeCertificate, testCertificate, type TestCertificate } from "../support/server.ts";

let dir: string;
let tls: TestCertificate;
const files = { cert: "", key: "", ca: "" };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "parley-tls-e2e-"));
  tls = await testCertificate();
  files.cert = join(dir, "cert.pem");
  files.key = join(dir, "key.pem");
  files.ca = join(dir, "ca.pem");
  writeFileSync(files.cert, tls.cert);
  writeFileSync(files.key, tls.key);
  writeFileSync(files.ca, tls.cert);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: Child[] = [];
afterEach(async () => {
  for (const child of running.splice(0).reverse()) await child[Symbol.asyncDispose]();
});

/** A server with plain TCP, TLS, HTTP and HTTPS on free ports; resolves with the TCP, TLS and HTTPS ones. */
async function server(extra: readonly string[] = []) {
  const started = await spawnServer(["--tls-cert", files.cert, "--tls-key", files.key, "--tls-port", "0", ...extra]);
  running.push(started);
  const port = async (transport: string) => Number(/\bport=(\d+)/.exec(await started.line("stderr", `transport=${transport} `))![1]);
  return { child: started, plain: started.port, tls: await port("tls"), https: extra.includes("--no-https") ? undefined : await port("https") };
}

/** GET over HTTPS trusting `ca`: the status, or the error's message when TLS refused. */
function getHttps(port: number, path: string, ca: string): Promise<number | string> {
  return fetch(`https://127.0.0.1:${port}${path}`, { tls: { ca } }).then(
    (response) => response.status,
    (error: Error) => error.message,
  );
}

function client(args: readonly string[], stdin = ""): Child {
  const child = new Child([...fromSource, "client", "--host", "127.0.0.1", "--no-reconnect", ...args], { stdin });
  running.push(child);
  return child;
}

describe("parley over TLS", () => {
  test("two clients chat over TLS, trusting the server's certificate with --tls-ca", async () => {
    const { tls: port } = await server();
    const bob = client(["--tls", "--tls-ca", files.ca, "--port", String(port), "--user", "bob", "--json", "--listen"]);
    await bob.line("stdout", '"event":"connected"');
    const alice = client(["--tls-ca", files.ca, "--port", String(port), "--user", "alice"], "@bob over tls\n");
    expect(await alice.exit()).toBe(0);
    await bob.line("stdout", '"text":"over tls"');
  });

  test("refuses a certificate it does not trust with one clear line, and exits 1", async () => {
    const { tls: port } = await server();
    const alice = client(["--tls", "--port", String(port), "--user", "alice"], "@bob hi\n");
    expect(await alice.exit()).toBe(1);
    expect(alice.stderr).toContain("certificate not trusted");
    expect(alice.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("--tls-insecure connects anyway, and warns on stderr", async () => {
    const { tls: port } = await server();
    const alice = client(["--tls-insecure", "--port", String(port), "--user", "alice"], "@alice to myself\n");
    expect(await alice.exit()).toBe(0);
    expect(alice.stderr).toContain("--tls-insecure accepts any certificate");
  });

  test("--tls-insecure never goes with a password: a usage error before connecting", async () => {
    const { tls: port } = await server();
    const alice = new Child([...fromSource, "client", "--host", "127.0.0.1", "--tls-insecure", "--port", String(port), "--user", "alice"], { stdin: "@bob hi\n", env: { PARLEY_PASSWORD: "secret" } });
    running.push(alice);
    expect(await alice.exit()).toBe(2);
    expect(alice.stderr).toContain("--tls-insecure never goes with a password");
  });

  test("a TLS client pointed at the plain port gets a clear error at once, not a 30 s wait", async () => {
    const { plain } = await server();
    const alice = client(["--tls", "--tls-ca", files.ca, "--port", String(plain), "--user", "alice"], "@bob hi\n");
    expect(await alice.exit(3000)).toBe(1);
    expect(alice.stderr).toContain("TLS");
  });

  test("a plaintext client on the TLS port is closed by the handshake deadline", async () => {
    const { tls: port } = await server(["--tls-handshake-timeout-ms", "300"]);
    const peer = await Peer.connect(port, "plaintext");
    peer.send("REG");
    await peer.closes(3000);
  });

  test("serves HTTPS on its own port with the same certificate: health, and a WebSocket user chatting with TLS clients", async () => {
    const { tls: port, https } = await server();
    expect(await getHttps(https!, "/healthz", tls.cert)).toBe(200);
    using web = await Peer.connectWebSocket(`wss://127.0.0.1:${https}/ws`, "web", {}, tls.cert);
    web.send("REGISTER TOSEND web\n\n");
    web.send("REGISTER TORECV web\n\n");
    await web.receives("REGISTERED TOSEND web\n\nREGISTERED TORECV web\n\n");
    const bob = client(["--tls-ca", files.ca, "--port", String(port), "--user", "bob", "--json", "--listen"]);
    await bob.line("stdout", '"event":"connected"');
    web.send("SEND bob\nContent-length: 8\n\nfrom wss");
    await web.receives("SENT bob\n\n", 5000);
    await bob.line("stdout", '"text":"from wss"');
    const alice = client(["--tls-ca", files.ca, "--port", String(port), "--user", "alice"], "@web to wss\n");
    await web.receives("FORWARD alice\nContent-length: 6\n\nto wss", 5000);
    web.send("RECEIVED alice\n\n");
    expect(await alice.exit()).toBe(0);
  });

  test("--no-https serves TLS but no HTTPS; a taken HTTPS port is one line naming it, and exit 1", async () => {
    const { child, plain } = await server(["--no-https"]);
    // A line logged after every listener's: had HTTPS started, its line would be before this one.
    using _ = await registered(plain, "alice");
    await child.line("stderr", "user.registered");
    expect(child.stderr).toContain("transport=http ");
    expect(child.stderr).not.toContain("transport=https");
    using taken = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const refused = await spawnServer(["--tls-cert", files.cert, "--tls-key", files.key, "--tls-port", "0", "--https-port", String(taken.port)], { listen: false });
    running.push(refused);
    expect(await refused.exit()).toBe(1);
    expect(refused.stderr).toBe(`parley: cannot listen on 127.0.0.1:${taken.port} (https): address already in use\n`);
  });

  test("reloads the certificate on SIGHUP, and keeps the old one when the new one does not load", async () => {
    const { child, tls: port, https } = await server();
    writeFileSync(files.cert, "not a certificate\n");
    child.kill("SIGHUP");
    await child.line("stderr", "tls.reload-failed");
    // Still served with the old certificate.
    const before = client(["--tls-ca", files.ca, "--port", String(port), "--user", "alice"], "@alice still\n");
    expect(await before.exit()).toBe(0);

    const next = await makeCertificate();
    writeFileSync(files.cert, next.cert);
    writeFileSync(files.key, next.key);
    child.kill("SIGHUP");
    await child.line("stderr", "tls.reloaded");
    const oldTrust = client(["--tls-ca", files.ca, "--port", String(port), "--user", "bob"], "@bob x\n");
    expect(await oldTrust.exit()).toBe(1);
    expect(oldTrust.stderr).toContain("certificate not trusted");
    // HTTPS took the new certificate too.
    expect(await getHttps(https!, "/healthz", tls.cert)).toMatch(/certificate/);
    expect(await getHttps(https!, "/healthz", next.cert)).toBe(200);
    writeFileSync(files.ca, next.cert);
    const newTrust = client(["--tls-ca", files.ca, "--port", String(port), "--user", "carol"], "@carol y\n");
    expect(await newTrust.exit()).toBe(0);
  }, 15_000);
});
