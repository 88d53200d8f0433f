// A byte-stream listener, plain TCP or TLS: Bun.listen with the shared
// TcpTransport handlers and a fresh transport and connection per socket, made
// in `open` (the listener-level `data` would be shared by every socket).

import type { Socket, TCPSocketListener } from "bun";
import type { Hub } from "../core/hub.ts";
import { TcpTransport, tcpHandlers } from "../net/tcp.ts";
import { StreamConnection } from "./stream-connection.ts";

export type TlsFiles = { readonly cert: string; readonly key: string };

export type StreamListenerOptions = {
  readonly hostname: string;
  readonly port: number;
  /** PEM text: with it, a TLS listener (TLS 1.2 or later). */
  readonly tls?: TlsFiles;
  /** A TLS client must finish its handshake within this. */
  readonly handshakeTimeoutMs?: number;
};

export type Listener = {
  readonly transport: "tcp" | "tls";
  readonly port: number;
  /** Stops accepting; open connections stay. */
  stop(): void;
  /** Closes every connection it accepted. */
  closeAll(): void;
  /** Resolves once no accepted socket is open. */
  drained(): Promise<void>;
  /** Serves new connections with another certificate; open ones keep theirs. */
  reload(tls: TlsFiles): void;
};

export function listenStream(hub: Hub, options: StreamListenerOptions): Listener {
  const open = new Set<Socket<TcpTransport>>();
  const waiting: (() => void)[] = [];
  const transportOptions = { maxQueuedBytes: hub.limits.maxQueuedBytes, keepAliveMs: hub.limits.keepAliveMs };
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const handshakes = new Map<Socket<TcpTransport>, ReturnType<typeof setTimeout>>();
  const tls = options.tls !== undefined;

  const bind = (files: TlsFiles | undefined, port: number, reusePort: boolean): TCPSocketListener<TcpTransport> =>
    Bun.listen<TcpTransport>({
      hostname: options.hostname,
      port,
      // Honoured by Bun.listen on 1.4.5 (measured), though its types list it for connect only.
      ...{ reusePort },
      // docs/protocol.md D19: a sender that half-closes is still owed its replies.
      allowHalfOpen: true,
      ...(files === undefined ? {} : { tls: { cert: files.cert, key: files.key } }),
      socket: {
        ...tcpHandlers,
        open(socket) {
          open.add(socket);
          socket.data = new TcpTransport(socket, transportOptions);
          socket.data.handler = new StreamConnection(socket.data, hub, { plain: !tls });
          // A client that sends a few bytes and stops would hold a TLS connection forever (Bun 1.4.5).
          if (tls) handshakes.set(socket, setTimeout(() => socket.terminate(), handshakeTimeoutMs));
        },
        handshake(socket) {
          clearTimeout(handshakes.get(socket));
          handshakes.delete(socket);
        },
        close(socket, error) {
          open.delete(socket);
          clearTimeout(handshakes.get(socket));
          handshakes.delete(socket);
          tcpHandlers.close(socket, error);
          if (open.size === 0) for (const resolve of waiting.splice(0)) resolve();
        },
        error(socket, error) {
          const connection = socket.data?.handler;
          hub.events.emit({ type: "socket.error", id: connection instanceof StreamConnection ? connection.peer.id : undefined, error: error.message });
        },
      },
    });

  // A TLS listener shares its port with its successor while a certificate reloads.
  let listener = bind(options.tls, options.port, tls);
  const port = listener.port;
  return {
    transport: tls ? "tls" : "tcp",
    port,
    stop: () => listener.stop(),
    closeAll() {
      listener.stop(true);
      for (const socket of open) socket.terminate();
    },
    drained() {
      if (open.size === 0) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiting.push(resolve);
      return promise;
    },
    // Bun's in-place reload kept the old certificate (measured on 1.4.5); a new
    // listener on the same port, then stopping the old one, switches it.
    reload(files) {
      const next = bind(files, port, true);
      listener.stop();
      listener = next;
    },
  };
}
