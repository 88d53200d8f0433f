// The plain TCP listener: Bun.listen with the shared TcpTransport handlers, a
// fresh transport and connection per socket made in `open` (the listener-level
// `data` would be shared by every socket).

import type { Socket, TCPSocketListener } from "bun";
import type { Hub } from "../core/hub.ts";
import { TcpTransport, tcpHandlers } from "../net/tcp.ts";
import { StreamConnection } from "./stream-connection.ts";

export type Listener = {
  readonly socket: TCPSocketListener<TcpTransport>;
  /** Resolves once no accepted socket is open. */
  drained(): Promise<void>;
};

export function listenTcp(hub: Hub, hostname: string, port: number): Listener {
  const open = new Set<Socket<TcpTransport>>();
  const waiting: (() => void)[] = [];
  const options = { maxQueuedBytes: hub.limits.maxQueuedBytes, keepAliveMs: hub.limits.keepAliveMs };
  const socket = Bun.listen<TcpTransport>({
    hostname,
    port,
    // docs/protocol.md D19: a sender that half-closes is still owed its replies.
    allowHalfOpen: true,
    socket: {
      ...tcpHandlers,
      open(socket) {
        open.add(socket);
        socket.data = new TcpTransport(socket, options);
        socket.data.handler = new StreamConnection(socket.data, hub);
      },
      close(socket, error) {
        open.delete(socket);
        tcpHandlers.close(socket, error);
        if (open.size === 0) for (const resolve of waiting.splice(0)) resolve();
      },
      error(socket, error) {
        const connection = socket.data?.handler;
        hub.events.emit({ type: "socket.error", id: connection instanceof StreamConnection ? connection.peer.id : undefined, error: error.message });
      },
    },
  });
  return {
    socket,
    drained() {
      if (open.size === 0) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiting.push(resolve);
      return promise;
    },
  };
}
