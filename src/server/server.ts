// The composition root: limits and a logger in, a running server out.
// Nothing here reads argv or env; cli.ts does that.

import { defaultLimits, type LimitValues } from "../protocol/limits.ts";
import type { Connection, Hub } from "./connection.ts";
import { Delivery } from "./delivery.ts";
import { listen } from "./listener.ts";
import { silentLogger, type Logger } from "./log.ts";
import { Registry } from "./registry.ts";

export type ServerOptions = {
  readonly hostname?: string;
  readonly port?: number;
  readonly limits?: Partial<LimitValues>;
  readonly log?: Logger;
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

// Graceful shutdown must finish within 2 s (issue #2); sockets still open then are dropped.
const shutdownDeadlineMs = 1500;

export function startServer(options: ServerOptions = {}): RunningServer {
  const limits: LimitValues = { ...defaultLimits, ...options.limits };
  const log = options.log ?? silentLogger;
  const registry = new Registry(limits.registerTimeoutMs);
  const connections = new Set<Connection>();
  const hub: Hub = { limits, registry, delivery: new Delivery(registry), log, connections };
  const listener = listen(hub, options.hostname ?? "127.0.0.1", options.port ?? 5050);
  log.info?.("server.listening", { host: listener.socket.hostname, port: listener.socket.port });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      listener.socket.stop();
      log.info?.("server.stopping", { connections: connections.size });
      for (const connection of [...connections]) connection.shutdown();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdownDeadlineMs)));
      await Promise.race([listener.drained(), deadline]);
      clearTimeout(timer);
      listener.socket.stop(true);
      log.info?.("server.stopped");
    })();
    return stopping;
  };

  return {
    hostname: listener.socket.hostname,
    port: listener.socket.port,
    get connections() {
      return connections.size;
    },
    get users() {
      return registry.size;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
