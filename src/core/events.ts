// Everything the server reports, as one typed union. The log writes these as
// lines and metrics can count the same values, so the two never disagree.

import type { ProtocolReason } from "../protocol/errors.ts";
import type { CloseReason, FailReason } from "./reasons.ts";

export type ServerEvent =
  | { readonly type: "server.listening"; readonly transport: string; readonly host: string; readonly port: number }
  | { readonly type: "server.limits"; readonly fileLimit: number | "unknown"; readonly maxConnections: number }
  | { readonly type: "server.signal"; readonly signal: string }
  | { readonly type: "tls.reloaded"; readonly cert: string }
  | { readonly type: "accounts.reloaded"; readonly accounts: number; readonly added: string; readonly removed: string; readonly changed: string }
  | { readonly type: "accounts.problem"; readonly file: string; readonly problem: string }
  | { readonly type: "tls.reload-failed"; readonly error: string }
  | { readonly type: "server.stopping"; readonly connections: number }
  | { readonly type: "server.stopped" }
  | { readonly type: "connection.open"; readonly id: number; readonly address: string }
  | { readonly type: "connection.close"; readonly id: number; readonly user: string | undefined; readonly reason: CloseReason }
  | { readonly type: "connection.refused"; readonly id: number; readonly user: string | undefined; readonly reason: ProtocolReason; readonly detail: string }
  | { readonly type: "connection.slow-consumer"; readonly id: number; readonly user: string | undefined }
  | { readonly type: "connection.busy"; readonly id: number; readonly address: string; readonly cap: "server-full" | "address-full" | "names" }
  | { readonly type: "connection.throttled"; readonly id: number; readonly user: string | undefined; readonly waitMs: number }
  | { readonly type: "log.suppressed"; readonly lines: number }
  | { readonly type: "connection.bug"; readonly id: number; readonly error: string }
  | { readonly type: "socket.error"; readonly id: number | undefined; readonly error: string }
  | { readonly type: "recipient.timeout"; readonly id: number; readonly user: string | undefined; readonly deadline: "ack" | "write"; readonly waitedMs: number }
  | { readonly type: "user.registered"; readonly user: string; readonly address: string }
  | { readonly type: "auth.refused"; readonly id: number; readonly user: string; readonly reason: "plaintext" | "malformed" | "refused" | "busy" }
  | { readonly type: "send.failed"; readonly from: string; readonly to: string; readonly reason: FailReason }
  | { readonly type: "broadcast.refused"; readonly from: string; readonly to: string | undefined; readonly reason: FailReason }
  | { readonly type: "cluster.joined"; readonly node: string; readonly servers: string }
  | { readonly type: "cluster.bus"; readonly node: string; readonly state: "disconnected" | "reconnected" }
  | { readonly type: "cluster.fenced"; readonly node: string; readonly users: number }
  | { readonly type: "cluster.unfenced"; readonly node: string }
  | { readonly type: "cluster.node"; readonly node: string; readonly state: "alive" | "dead" | "left" }
  | { readonly type: "cluster.claim-refused"; readonly user: string; readonly heldBy: string; readonly why: string }
  | { readonly type: "cluster.problem"; readonly node: string; readonly what: string; readonly error: string };

export type EventType = ServerEvent["type"];

export const LogLevels = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LogLevels)[number];

/** Each event's level, in one table: errors are parley's bugs, warnings the server defending itself. */
export const eventLevel: { readonly [T in EventType]: LogLevel } = {
  "server.listening": "info",
  "server.limits": "info",
  "server.signal": "info",
  "tls.reloaded": "info",
  "accounts.reloaded": "info",
  "accounts.problem": "warn",
  "tls.reload-failed": "warn",
  "server.stopping": "info",
  "server.stopped": "info",
  "connection.open": "debug",
  "connection.close": "debug",
  "connection.refused": "info",
  "connection.slow-consumer": "warn",
  "connection.busy": "warn",
  "connection.throttled": "debug",
  "log.suppressed": "warn",
  "connection.bug": "error",
  "socket.error": "warn",
  "recipient.timeout": "warn",
  "user.registered": "info",
  "auth.refused": "info",
  "send.failed": "debug",
  "broadcast.refused": "debug",
  "cluster.joined": "info",
  "cluster.bus": "warn",
  "cluster.fenced": "warn",
  "cluster.unfenced": "info",
  "cluster.node": "info",
  "cluster.claim-refused": "info",
  "cluster.problem": "warn",
};

/** Where events go; `wants` lets a hot path skip building an event nobody records. */
export type EventSink = {
  emit(event: ServerEvent): void;
  wants(type: EventType): boolean;
};

export const silentEvents: EventSink = { emit() {}, wants: () => false };
