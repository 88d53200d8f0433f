// How a client opens each connection to the server: a Connector, the default
// one (TCP or TLS to a host and port), and what a failed attempt means.

import { connectTcp, resolveHost, TlsError, type TlsClient } from "../net/tcp.ts";
import type { Transport, TransportHandler } from "../net/transport.ts";
import { defaultLimits } from "../protocol/limits.ts";
import type { ConnectError } from "./registration.ts";

/** Opens one connection to the server and hands its events to `handler`; rejects when it cannot. */
export type Connector = (handler: TransportHandler) => Promise<Transport>;

/**
 * The default: TCP to `host:port`, over TLS with `tls`. The name is resolved
 * once per connection attempt and both connections go to that one address:
 * behind a name with several nodes, both roles of a user must reach the same
 * node (docs/protocol.md D58). A reconnection resolves it again.
 */
export function tcpConnector(host: string, port: number, tls?: TlsClient): Connector {
  let resolved: { readonly at: number; readonly address: Promise<string> } | undefined;
  return (handler) => {
    const now = performance.now();
    // The two connections of one attempt ask within the same moment; a later attempt asks afresh.
    if (resolved === undefined || now - resolved.at > 1000) resolved = { at: now, address: resolveHost(host) };
    return resolved.address.then((address) => connectTcp(host, port, handler, { maxQueuedBytes: defaultLimits.maxQueuedBytes, keepAliveMs: defaultLimits.keepAliveMs }, tls, address));
  };
}

/** What a Connector's rejection means to the user. */
export function connectFailure(error: unknown): ConnectError {
  if (error instanceof TlsError) return { kind: "refused", detail: `TLS: ${error.message}` };
  const code = (error as { code?: string }).code;
  const detail = code === "ECONNREFUSED" ? "connection refused" : code === "ENOTFOUND" ? "unknown host" : (error as Error).message || String(error);
  return { kind: "unreachable", detail };
}
