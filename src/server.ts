// The composition root: limits and an event sink in, a running server out.
// It builds the core (hub) and plugs the transports into it. Nothing here
// reads argv or env; cli.ts does that.

import { readFileSync } from "node:fs";
import type { AddressRange } from "./core/address.ts";
import type { EventSink } from "./core/events.ts";
import { createHub } from "./core/hub.ts";
import type { LimitValues } from "./protocol/limits.ts";
import { listenTcp } from "./transports/tcp-listener.ts";

export type ServerOptions = {
  readonly hostname?: string;
  readonly port?: number;
  readonly limits?: Partial<LimitValues>;
  readonly events?: EventSink;
  /** Addresses the per-address caps do not apply to. */
  readonly exempt?: readonly AddressRange[];
};

export type RunningServer = {
  readonly hostname: string;
  readonly port: number;
  /** Open connections, registered or not. */
  readonly connections: number;
  /** Names with at least one role held. */
  readonly users: number;
  /** Stops accepting, answers every SEND in flight (ERROR 102 unless already acknowledged, docs/protocol.md D22), flushes and closes; resolves when every socket is closed. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

// Graceful shutdown must finish within 2 s (docs/protocol.md D22); sockets still open then are dropped.
const shutdownDeadlineMs = 1500;

/**
 * The open-files limit in force (Bun raises the soft limit to the hard one
 * before any of our code runs, and has no API for it).
 */
function fileLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((each) => each.startsWith("Max open files"));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isSafeInteger(soft) ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * docs/protocol.md §6 "Connections": stay safely below the fd limit, so accept
 * never fails (and never spins); the reserve covers listeners, TLS handshakes,
 * HTTP requests and the cluster bus.
 */
export function connectionCap(files: number | undefined): number {
  if (files === undefined) return 10_000;
  return Math.max(1, files - Math.max(64, Math.ceil(files / 10)));
}

export function startServer(options: ServerOptions = {}): RunningServer {
  const files = fileLimit();
  const maxConnections = options.limits?.maxConnections || connectionCap(files);
  const hub = createHub({ limits: { ...options.limits, maxConnections }, events: options.events, exempt: options.exempt });
  const { events, peers, directory } = hub;
  const listener = listenTcp(hub, options.hostname ?? "127.0.0.1", options.port ?? 5050);
  events.emit({ type: "server.limits", fileLimit: files ?? "unknown", maxConnections });
  events.emit({ type: "server.listening", transport: "tcp", host: listener.socket.hostname, port: listener.socket.port });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      listener.socket.stop();
      events.emit({ type: "server.stopping", connections: peers.size });
      for (const peer of [...peers]) peer.shutdown();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdownDeadlineMs)));
      await Promise.race([listener.drained(), deadline]);
      clearTimeout(timer);
      listener.socket.stop(true);
      events.emit({ type: "server.stopped" });
    })();
    return stopping;
  };

  return {
    hostname: listener.socket.hostname,
    port: listener.socket.port,
    get connections() {
      return peers.size;
    },
    get users() {
      return directory.size;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
