// In-process servers on 127.0.0.1 port 0 for one test: `await using server =
// testServer()`, or `await using cast = openCast(limits)`, which also closes
// every Peer the test opened. Users register over the wire as a client would.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Authority } from "../../src/core/authority.ts";
import type { EventSink } from "../../src/core/events.ts";
import { createLogger } from "../../src/core/log.ts";
import type { LimitValues } from "../../src/protocol/limits.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { Changes } from "./changes.ts";
import { Peer, register, show } from "./peer.ts";

/** PARLEY_TEST_LOG=debug prints the server's log while a test runs. */
function testLogger(): EventSink | undefined {
  const level = process.env.PARLEY_TEST_LOG;
  if (level !== "error" && level !== "warn" && level !== "info" && level !== "debug") return undefined;
  return createLogger({ level, format: "text", write: (line) => process.stderr.write(line) });
}

export type TestCertificate = { readonly cert: string; readonly key: string };

let certificate: Promise<TestCertificate> | undefined;

/** The self-signed certificate of this test process, made once. */
export function testCertificate(): Promise<TestCertificate> {
  certificate ??= makeCertificate();
  return certificate;
}

/** A fresh self-signed certificate for localhost and 127.0.0.1, made by openssl (on Debian; ~10 ms). */
export async function makeCertificate(): Promise<TestCertificate> {
  const dir = mkdtempSync(join(tmpdir(), "parley-tls-"));
  const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert];
  const openssl = Bun.spawn(["openssl", ...args, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stderr: "pipe" });
  if ((await openssl.exited) !== 0) throw new Error(`openssl failed: ${await new Response(openssl.stderr).text()}`);
  const made = { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  rmSync(dir, { recursive: true });
  return made;
}

export type TestServerExtras = {
  /** The HTTP listener (WebSocket and the web client) on this port, 0 unless given (then `server.httpPort`). */
  readonly http?: { readonly port?: number };
  /** With `tls`: the HTTPS listener too, on this port, 0 unless given (then `server.httpsPort`). */
  readonly https?: { readonly port?: number };
  /** Who may hold which name (accounts). */
  readonly authority?: Authority;
};

/** A server on port 0; with `tls`, a TLS listener on port 0 too (then `server.tlsPort`). */
export function testServer(limits: Partial<LimitValues> = {}, tls?: TestCertificate, extras: TestServerExtras = {}): RunningServer {
  const { http, https, authority } = extras;
  return startServer({
    hostname: "127.0.0.1",
    port: 0,
    limits,
    events: testLogger(),
    tls: tls && { ...tls, port: 0 },
    http: http && { port: http.port ?? 0 },
    https: https && { port: https.port ?? 0 },
    authority,
  });
}

/** A registered user: two connections, or one in single-connection mode. */
export type Member = { readonly name: string; readonly sender: Peer; readonly receiver: Peer };

/**
 * Waits until `condition` holds, checking every few milliseconds, for state the
 * wire does not announce (a server noticing that a peer left).
 */
export function eventually(condition: () => boolean, what: string, deadlineMs = 2000): Promise<void> {
  return new Changes().until(condition, deadlineMs, () => `waiting until ${what}`, 2);
}

export class Cast {
  readonly server: RunningServer;
  readonly #peers: Peer[] = [];

  constructor(server: RunningServer) {
    this.server = server;
  }

  get port(): number {
    return this.server.port;
  }

  /** A raw connection that registers nothing by itself; closed with the cast. */
  async connect(label = "peer", port = this.server.port): Promise<Peer> {
    const peer = await Peer.connect(port, label);
    this.#peers.push(peer);
    return peer;
  }

  /** Connects and registers `name`, TOSEND first, on two connections or on one. */
  async join(name: string, mode: "two-connection" | "single-connection" = "two-connection"): Promise<Member> {
    const sender = await this.connect(`${name}(send)`);
    const receiver = mode === "single-connection" ? sender : await this.connect(`${name}(recv)`);
    await register(sender, "TOSEND", name);
    await register(receiver, "TORECV", name);
    return { name, sender, receiver };
  }

  /** Fails if any open connection holds bytes the test did not expect. */
  expectNothingUnread(): void {
    for (const peer of this.#peers) {
      if (peer.unread.length > 0) throw new Error(`${peer.label} has unexpected bytes ${show(peer.unread)}`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const peer of this.#peers.splice(0)) peer.close();
    await this.server.stop();
  }
}

export function openCast(limits: Partial<LimitValues> = {}): Cast {
  return new Cast(testServer(limits));
}

/**
 * A loopback TCP proxy whose upstream connections leave from `localAddress`, so
 * a Peer reaches the server "from" 127.0.0.2 (the pairing guard, PROTOCOL.md §3,
 * compares remote addresses). Bun.connect has no local-address option in Bun
 * 1.4.5; node:net's does, and Linux routes all of 127.0.0.0/8 to loopback.
 */
export async function proxyFrom(localAddress: string, targetPort: number): Promise<AsyncDisposable & { readonly port: number }> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A reset on one side is seen as a close on the other; nothing to report.
    socket.on("error", () => socket.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort, localAddress });
    track(client);
    track(upstream);
    // pipe() carries each side's FIN to the other, so closes stay visible to the Peer.
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.end());
  });
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  server.once("error", reject);
  server.listen(0, "127.0.0.1", resolve);
  await promise;
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
