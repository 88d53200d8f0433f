// The generator's connections to a relay: plain TCP or TLS, each written
// through the project's Outbox (one write() per turn) or, for the load's hot
// writes, straight from a prebuilt block; bench/ws-connection.ts makes one a
// WebSocket.

import type { Socket, SocketHandler } from "bun";
import { Outbox } from "../src/net/outbox.ts";
import { die, isDying, type GeneratorConfig } from "./load.ts";

const host = "127.0.0.1";

export class Client {
  socket: Socket<Client> | undefined;
  outbox: Outbox | undefined;
  onBytes: (chunk: Uint8Array) => void = () => {};
  /** The socket takes writes again; the attacker writes its flood straight to it. */
  onDrain: () => void = () => {};
  /** TLS: the handshake finished (see connect()). */
  onHandshake: () => void = () => {};
  expectClose = false;

  write(bytes: Uint8Array): void {
    this.outbox!.write(bytes);
  }

  /**
   * Writes `bytes[0, length)` of a block that is never mutated. With nothing
   * queued it goes straight to the socket, with no view and no microtask: the
   * load's hot writes, so that the generator costs no more per round trip
   * than the relay it drives, whose reads and writes it mirrors.
   */
  writePrefix(bytes: Uint8Array, length: number): void {
    if (this.outbox!.queuedBytes > 0) return this.outbox!.write(bytes.subarray(0, length));
    const written = this.socket!.write(bytes, 0, length);
    // -1: closed, which the close handler reports; a short write leaves the tail to the outbox.
    if (written >= 0 && written < length) this.outbox!.write(bytes.subarray(written, length));
  }

  end(): void {
    this.expectClose = true;
    this.outbox?.end();
  }

  /** A chunk off the socket; a WebSocket client takes its frames off first (bench/ws-connection.ts). */
  receive(chunk: Uint8Array): void {
    this.onBytes(chunk);
  }

  /** `message` as this connection carries one: over TCP as it is. */
  frame(message: Uint8Array): Uint8Array {
    return message;
  }
}

const handlers: SocketHandler<Client> = {
  binaryType: "uint8array", // plain chunks: cheaper subarray() for the framer
  data(socket, chunk) {
    socket.data.receive(chunk);
  },
  drain(socket) {
    socket.data.outbox?.onDrain();
    socket.data.onDrain();
  },
  handshake(socket, success, error) {
    if (!success) die(`TLS handshake failed: ${error?.message ?? "no reason given"}`);
    socket.data.onHandshake();
  },
  close(socket) {
    if (!socket.data.expectClose && !isDying()) die("the server closed a connection");
  },
  error(socket, error) {
    // A handler that threw lands here (BUN-NOTES.md); die() has reported it already.
    if (!socket.data.expectClose && !isDying()) die(`socket error: ${error.message}`);
  },
};

export const clients: Client[] = [];

/**
 * `localAddress`: the address to connect from (the attacker's); Bun.connect takes it though its types
 * omit it. Over TLS, resolves after the handshake: a write before it is lost (BUN-NOTES.md).
 * `client`: a subclass's, to read and frame its own way.
 */
export async function connect(port: number, tls: GeneratorConfig["tls"], localAddress?: string, client = new Client()): Promise<Client> {
  const from = localAddress === undefined ? {} : { localAddress };
  const secure = tls === undefined ? {} : { tls: { ca: tls.ca, serverName: "localhost" } };
  const handshake = Promise.withResolvers<void>();
  client.onHandshake = handshake.resolve;
  const socket = await Bun.connect<Client>({ hostname: host, port, data: client, socket: handlers, ...from, ...secure });
  if (tls !== undefined) await handshake.promise;
  client.socket = socket;
  client.outbox = new Outbox(socket, Number.MAX_SAFE_INTEGER, () => die("outbox overflow"));
  clients.push(client);
  return client;
}
