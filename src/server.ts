// The composition root: limits and an event sink in, a running server out.
// It builds the core (hub) and plugs the transports into it. Nothing here
// reads argv or env; cli.ts does that.

import { readFileSync } from "node:fs";
import type { AddressRange } from "./core/address.ts";
import type { Authority } from "./core/authority.ts";
import type { EventSink } from "./core/events.ts";
import { createHub } from "./core/hub.ts";
import type { LimitValues } from "./protocol/limits.ts";
import { listenHttp, type HttpListener } from "./transports/http-listener.ts";
import { listenStream, type Listener, type TlsFiles } from "./transports/stream-listener.ts";

export type ServerOptions = {
  readonly hostname?: string;
  /** The plain TCP port (0 picks a free one); default 5050. */
  readonly port?: number;
  /** Whether to serve plain TCP; default true. */
  readonly plain?: boolean;
  /** Serve TLS too, on its own port (default 5443), with this certificate and key (PEM text). */
  readonly tls?: TlsFiles & { readonly port?: number; readonly handshakeTimeoutMs?: number };
  /** Serve HTTP too (WebSocket at /ws, /healthz), on this port (default 5080); off unless given. */
  readonly http?: { readonly port?: number; readonly allowOrigins?: readonly string[] };
  /** Serve HTTPS too, the same routes with `tls`'s certificate, on this port (default 5444); off unless given, and only with `tls`. */
  readonly https?: { readonly port?: number; readonly allowOrigins?: readonly string[] };
  readonly limits?: Partial<LimitValues>;
  readonly events?: EventSink;
  /** Addresses the per-address caps do not apply to. */
  readonly exempt?: readonly AddressRange[];
  /** Who may hold which name; default: no accounts. */
  readonly authority?: Authority;
  /** Addresses whose passwords are accepted without TLS; default: loopback. */
  readonly trustPlaintext?: readonly AddressRange[];
};

export type RunningServer = {
  readonly hostname: string;
  /** The first listener's port: plain TCP's, or TLS's when there is no plain one, else HTTP's, else HTTPS's. */
  readonly port: number;
  readonly tlsPort: number | undefined;
  readonly httpPort: number | undefined;
  readonly httpsPort: number | undefined;
  /** Open connections, registered or not. */
  readonly connections: number;
  /** Names with at least one role held. */
  readonly users: number;
  /** Stops accepting, answers every SEND in flight (ERROR 102 unless already acknowledged, docs/protocol.md D22), flushes and closes; resolves when every socket is closed. */
  stop(): Promise<void>;
  /** Serves new TLS and HTTPS connections with another certificate; open ones keep theirs. */
  reloadTls(files: TlsFiles): void;
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

/** A listener that could not start (a port in use, a certificate that does not load), named by transport and port. */
export class ListenError extends Error {
  override readonly name = "ListenError";
  constructor(
    readonly transport: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }

  get inUse(): boolean {
    return this.cause instanceof Error && "code" in this.cause && this.cause.code === "EADDRINUSE";
  }
}

function starting<T>(transport: string, port: number, start: (port: number) => T): T {
  try {
    return start(port);
  } catch (error) {
    throw new ListenError(transport, port, error);
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
  const hub = createHub({
    limits: { ...options.limits, maxConnections },
    events: options.events,
    exempt: options.exempt,
    authority: options.authority,
    trustPlaintext: options.trustPlaintext,
  });
  const { events, peers, directory } = hub;
  const hostname = options.hostname ?? "127.0.0.1";
  if (options.https !== undefined && options.tls === undefined) throw new Error("HTTPS needs a certificate: give tls too");
  const listeners: Listener[] = [];
  const webListeners: HttpListener[] = [];
  try {
    const { tls, http, https } = options;
    if (options.plain ?? true) listeners.push(starting("tcp", options.port ?? 5050, (port) => listenStream(hub, { hostname, port })));
    if (tls !== undefined) listeners.push(starting("tls", tls.port ?? 5443, (port) => listenStream(hub, { hostname, port, tls, handshakeTimeoutMs: tls.handshakeTimeoutMs })));
    if (http !== undefined) webListeners.push(starting("http", http.port ?? 5080, (port) => listenHttp(hub, { hostname, port, allowOrigins: http.allowOrigins })));
    if (https !== undefined) webListeners.push(starting("https", https.port ?? 5444, (port) => listenHttp(hub, { hostname, port, allowOrigins: https.allowOrigins, tls })));
  } catch (error) {
    for (const listener of [...listeners, ...webListeners]) listener.closeAll();
    throw error;
  }
  if (listeners.length === 0 && webListeners.length === 0) throw new Error("no listener: plain TCP is off and neither TLS nor HTTP is configured");
  const tlsListener = listeners.find((listener) => listener.transport === "tls");
  const httpListener = webListeners.find((listener) => listener.transport === "http");
  const httpsListener = webListeners.find((listener) => listener.transport === "https");
  events.emit({ type: "server.limits", fileLimit: files ?? "unknown", maxConnections });
  for (const listener of [...listeners, ...webListeners]) events.emit({ type: "server.listening", transport: listener.transport, host: hostname, port: listener.port });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const listener of listeners) listener.stop();
      // HTTP keeps answering while the connections drain: /healthz says 503 meanwhile.
      for (const listener of webListeners) listener.beginStop();
      events.emit({ type: "server.stopping", connections: peers.size });
      for (const peer of [...peers]) peer.shutdown();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, shutdownDeadlineMs)));
      const drained = [...listeners, ...webListeners].map((listener) => listener.drained());
      await Promise.race([Promise.all(drained), deadline]);
      clearTimeout(timer);
      for (const listener of [...listeners, ...webListeners]) listener.closeAll();
      events.emit({ type: "server.stopped" });
    })();
    return stopping;
  };

  return {
    hostname,
    port: (listeners[0] ?? webListeners[0]!).port,
    tlsPort: tlsListener?.port,
    httpPort: httpListener?.port,
    httpsPort: httpsListener?.port,
    get connections() {
      return peers.size;
    },
    get users() {
      return directory.size;
    },
    stop,
    reloadTls(files) {
      if (tlsListener === undefined) throw new Error("TLS is not configured");
      tlsListener.reload(files);
      httpsListener?.reload(files);
    },
    [Symbol.asyncDispose]: stop,
  };
}
