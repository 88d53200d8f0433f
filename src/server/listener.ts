// Bun.listen wiring: one shared handler set, a fresh Connection per socket
// created in `open` (the listener-level `data` would be shared by every
// socket), and every handler a one-line delegation.

import type { Socket, TCPSocketListener } from "bun";
import { Connection, type Hub } from "./connection.ts";

export type Listener = {
  readonly socket: TCPSocketListener<Connection>;
  /** Resolves once no accepted socket is open. */
  drained(): Promise<void>;
};

export function listen(hub: Hub, hostname: string, port: number): Listener {
  const open = new Set<Socket<Connection>>();
  let waiting: (() => void)[] = [];
  const socket = Bun.listen<Connection>({
    hostname,
    port,
    // docs/protocol.md D19: a sender that half-closes is still owed its replies.
    allowHalfOpen: true,
    socket: {
      // Plain Uint8Array chunks: the framer slices every message out of them, and
      // a Buffer's subarray() was 15% of the server's CPU in closed-loop profiles.
      binaryType: "uint8array",
      open(socket) {
        open.add(socket);
        // The connection first, so a socket is never left without one if anything below throws.
        socket.data = new Connection(socket, hub);
        socket.setKeepAlive(true, hub.limits.keepAliveMs);
      },
      data(socket, chunk) {
        socket.data.onData(chunk);
      },
      drain(socket) {
        socket.data.onDrain();
      },
      end(socket) {
        socket.data.onEnd();
      },
      close(socket) {
        open.delete(socket);
        socket.data?.onClose();
        if (open.size === 0) for (const resolve of waiting.splice(0)) resolve();
      },
      error(socket, error) {
        hub.log.warn?.("socket.error", { id: socket.data?.id, error: error.message });
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
