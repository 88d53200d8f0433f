// A Bun TCP socket as a Transport, for the server's accepted sockets and the
// client's connections alike: a write queue (Outbox) in front of write(), and
// Bun's handlers delegated one line each to the connection's handler.

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Socket, SocketHandler } from "bun";
import { Outbox } from "./outbox.ts";
import type { Transport, TransportHandler } from "./transport.ts";

export type TcpOptions = { readonly maxQueuedBytes: number; readonly keepAliveMs: number };

export class TcpTransport implements Transport {
  readonly remoteAddress: string;
  readonly #socket: Socket<TcpTransport>;
  readonly #outbox: Outbox;
  #closed = false;
  /** Set by whoever takes the transport, before the first event can arrive. */
  handler: TransportHandler | undefined;

  constructor(socket: Socket<TcpTransport>, options: TcpOptions) {
    this.remoteAddress = socket.remoteAddress;
    this.#socket = socket;
    this.#outbox = new Outbox(
      socket,
      options.maxQueuedBytes,
      () => this.handler?.onOverflow(),
      () => this.handler?.onFlushed(),
    );
    socket.setKeepAlive(true, options.keepAliveMs);
  }

  get queuedBytes(): number {
    return this.#outbox.queuedBytes;
  }

  get queuedTotal(): number {
    return this.#outbox.queuedTotal;
  }

  get flushedTotal(): number {
    return this.#outbox.flushedTotal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Uint8Array): void {
    this.#outbox.write(bytes);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    if (!this.#closed) this.#socket.resume();
  }

  end(): void {
    this.#outbox.end();
  }

  close(): void {
    this.#outbox.close();
    this.#socket.end();
  }

  /** Drops the connection with a reset, for a connection given up on before it was used. */
  terminate(): void {
    this.#outbox.close();
    this.#socket.terminate();
  }

  onDrain(): void {
    this.#outbox.onDrain();
  }

  onClose(error?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#outbox.close();
    this.handler?.onClose(error);
  }
}

/** Bun's socket handlers for TcpTransport sockets; `open` and `error` differ between a listener and a client, so they are the caller's. */
export const tcpHandlers = {
  // Plain Uint8Array chunks: the framer slices every message out of them, and
  // a Buffer's subarray() was 15% of the server's CPU in closed-loop profiles.
  binaryType: "uint8array",
  data(socket, chunk) {
    socket.data?.handler?.onData(chunk);
  },
  drain(socket) {
    socket.data?.onDrain();
  },
  end(socket) {
    socket.data?.handler?.onEnd();
  },
  close(socket, error) {
    socket.data?.onClose(error?.message);
  },
} as const satisfies Omit<SocketHandler<TcpTransport>, "open" | "error">;

/** TLS for a client: trust `ca` (PEM) besides the system's roots, or, with `insecure`, any certificate. */
export type TlsClient = { readonly ca?: string; readonly insecure?: boolean };

/** Why a TLS connection was refused, in words: Bun's error says only its OpenSSL code. */
export class TlsError extends Error {
  override readonly name = "TlsError";
}

/**
 * Connects to `host:port` (over TLS with `tls`) and hands the connection's
 * events to `handler`. Rejects with Bun's error (its `code` says ECONNREFUSED,
 * ENOTFOUND, ...) or a TlsError; over TLS it resolves only once the handshake
 * is done, since a TLS client's writes before it are lost (Bun 1.4.5).
 */
/**
 * The address `host` names now (itself when it is one): the resolver's first
 * IPv4 address, else its first, as a server listening on 127.0.0.1 for
 * `localhost` expects.
 */
export async function resolveHost(host: string): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIP(bare) !== 0) return bare;
  const addresses = await lookup(host, { all: true });
  return (addresses.find((each) => each.family === 4) ?? addresses[0]!).address;
}

/** Connects to `address` (default: `host`); TLS checks the certificate against `host`. */
export async function connectTcp(host: string, port: number, handler: TransportHandler, options: TcpOptions, tls?: TlsClient, address = host): Promise<TcpTransport> {
  const handshake = Promise.withResolvers<void>();
  // Handled here, so a refusal that nobody awaits (plain TCP) is no unhandled rejection.
  handshake.promise.catch(() => {});
  // The handshake may end in a close with no handshake event: that is a refusal too.
  const refused = (why: string) => handshake.reject(new TlsError(why));
  const socket = await Bun.connect<TcpTransport>({
    hostname: address,
    port,
    ...(tls === undefined ? {} : { tls: { ca: tls.ca, rejectUnauthorized: !tls.insecure, serverName: host } }),
    socket: {
      ...tcpHandlers,
      open(socket) {
        socket.data = new TcpTransport(socket, options);
        socket.data.handler = handler;
      },
      handshake(_socket, success, error) {
        if (success || tls?.insecure) handshake.resolve();
        else refused(`certificate not trusted (${error?.message ?? "no reason given"})`);
      },
      close(socket, error) {
        refused(`closed during the TLS handshake${error ? ` (${error.message})` : ""}`);
        tcpHandlers.close(socket, error);
      },
      error(socket, error) {
        refused(error.message);
        socket.data?.onClose(error.message);
      },
      connectError() {}, // the rejection carries the error
    },
  });
  if (tls !== undefined) await handshake.promise;
  else handshake.resolve();
  return socket.data;
}
