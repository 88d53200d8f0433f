// The HTTP listener, plain or inside TLS (HTTPS, docs/protocol.md D54):
// WebSocket upgrades at /ws (each socket a WebSocketConnection for the core),
// /healthz for load balancers and supervisors, /metrics for Prometheus, and
// the web client at / with its script, style and icon.

import type { Server } from "bun";
import type { Hub } from "../core/hub.ts";
import type { TlsFiles } from "./stream-listener.ts";
import { serveAsset, webAssets } from "./web-page.ts";
import { WebSocketConnection, type WebSocketData } from "./websocket.ts";

export type HttpListenerOptions = {
  readonly hostname: string;
  readonly port: number;
  /** Origins besides the server's own whose pages may open a WebSocket (docs/protocol.md D47). */
  readonly allowOrigins?: readonly string[];
  /** PEM text: with it, HTTPS, and its WebSockets count as secure (docs/protocol.md D40). */
  readonly tls?: TlsFiles;
};

export type HttpListener = {
  readonly transport: "http" | "https";
  readonly port: number;
  /** Shutdown began: /healthz answers 503 and upgrades are refused; open sockets stay. */
  beginStop(): void;
  /** Closes the listener and every connection it accepted. */
  closeAll(): void;
  /** Resolves once no WebSocket is open. */
  drained(): Promise<void>;
  /** Serves new connections with another certificate; open ones keep theirs. */
  reload(tls: TlsFiles): void;
};

// HTTP requests have no per-connection hooks in Bun (1.4.5): a client that
// opens a connection and says nothing is closed by this (Bun rounds to 4 s).
const httpIdleSeconds = 10;

/** `https://Example.org:443/` -> `https://example.org`; undefined if it is no origin. */
export function normalizeOrigin(text: string): string | undefined {
  try {
    const origin = new URL(text).origin;
    return origin === "null" ? undefined : origin;
  } catch {
    return undefined;
  }
}

export function listenHttp(hub: Hub, options: HttpListenerOptions): HttpListener {
  const allowed = new Set((options.allowOrigins ?? []).map((each) => normalizeOrigin(each) ?? each));
  const open = new Set<WebSocketConnection>();
  const waiting: (() => void)[] = [];
  const started = performance.now();
  const secure = options.tls !== undefined;
  let stopping = false;

  const json = (status: number, body: object) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

  /** docs/protocol.md D47: the page's own origin, or one a flag allows; no Origin at all is not a browser. */
  const originAllowed = (req: Request, url: URL): boolean => {
    const origin = req.headers.get("origin");
    if (origin === null) return true;
    const normalized = normalizeOrigin(origin);
    return normalized !== undefined && (normalized === url.origin || allowed.has(normalized));
  };

  const bind = (files: TlsFiles | undefined, port: number): Server<WebSocketData> => Bun.serve<WebSocketData>({
    hostname: options.hostname,
    port,
    // An HTTPS listener shares its port with its successor while a certificate reloads.
    reusePort: secure,
    ...(files === undefined ? {} : { tls: { cert: files.cert, key: files.key } }),
    idleTimeout: httpIdleSeconds,
    fetch(req, server) {
      const url = new URL(req.url);
      if (url.pathname === "/healthz") {
        if (stopping) return json(503, { status: "stopping" });
        const uptimeSeconds = Math.floor((performance.now() - started) / 1000);
        return json(200, { status: "ok", uptimeSeconds, connections: hub.peers.size, users: hub.directory.size });
      }
      if (url.pathname === "/metrics") {
        const cpu = process.cpuUsage();
        const text = hub.metrics.render({ users: hub.directory.size, rssBytes: process.memoryUsage.rss(), cpuSeconds: (cpu.user + cpu.system) / 1e6 });
        return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" } });
      }
      if (req.method !== "GET") return new Response("Not found\n", { status: 404 });
      if (url.pathname === "/ws") {
        if (!originAllowed(req, url)) return new Response("Forbidden origin\n", { status: 403 });
        if (stopping) return new Response("Stopping\n", { status: 503 });
        const address = server.requestIP(req)?.address ?? "unknown";
        const data: WebSocketData = { address, secure };
        if (server.upgrade(req, { data })) return undefined;
        return new Response("Expected a WebSocket upgrade\n", { status: 426 });
      }
      return serveWeb(req, url);
    },
    websocket: {
      data: {} as WebSocketData,
      // docs/protocol.md D45: a message over the limits is closed by Bun with 1009, never buffered whole.
      maxPayloadLength: hub.limits.maxHeaderBytes + hub.limits.maxBodyBytes,
      // Small, so Bun holds little beyond parley's own queue, which counts against the write cap (D48).
      backpressureLimit: 64 * 1024,
      closeOnBackpressureLimit: false,
      // Bun pings an idle socket and closes one that does not answer: the WebSocket form of TCP keepalive.
      idleTimeout: Math.min(960, Math.max(8, Math.ceil(hub.limits.keepAliveMs / 1000))),
      sendPings: true,
      open(ws) {
        const connection = new WebSocketConnection(ws, hub);
        ws.data.connection = connection;
        open.add(connection);
      },
      message(ws, message) {
        ws.data.connection?.onMessage(message);
      },
      drain(ws) {
        ws.data.connection?.onDrain();
      },
      close(ws) {
        const connection = ws.data.connection;
        if (connection === undefined) return;
        open.delete(connection);
        connection.onClose();
        if (open.size === 0) for (const resolve of waiting.splice(0)) resolve();
      },
    },
  });

  async function serveWeb(req: Request, url: URL): Promise<Response> {
    try {
      const asset = (await webAssets()).get(url.pathname);
      return asset === undefined ? new Response("Not found\n", { status: 404 }) : serveAsset(asset, req, url.host);
    } catch (error) {
      return new Response(`The web client is not available: ${(error as Error).message}\n`, { status: 500 });
    }
  }

  let server = bind(options.tls, options.port);
  const port = server.port!;
  // Listeners replaced by a reload, until the last request or socket they hold is done.
  const retired = new Set<Server<WebSocketData>>();
  return {
    transport: secure ? "https" : "http",
    port,
    beginStop() {
      stopping = true;
    },
    closeAll() {
      for (const connection of [...open]) connection.drop();
      for (const each of [server, ...retired]) void each.stop(true);
    },
    drained() {
      if (open.size === 0) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      waiting.push(resolve);
      return promise;
    },
    // Bun.serve's reload() takes no TLS (measured on 1.4.5: the old certificate
    // stays, silently); a new listener on the same port, then stopping the old
    // one without closing what it holds, switches it, as for TLS (D38).
    reload(files) {
      const next = bind(files, port);
      const old = server;
      server = next;
      retired.add(old);
      void old.stop().then(() => retired.delete(old));
    },
  };
}
