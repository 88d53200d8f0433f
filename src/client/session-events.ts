// What a session tells whoever runs it (the terminal's modes, the web
// client): its events, and the answer to "who is online". Types only.

import type { ConnectError } from "./registration.ts";

export type SessionEvent =
  | { readonly type: "connected"; readonly reconnected: boolean }
  /** `reconnectInMs` is undefined when the session will not reconnect. */
  | { readonly type: "disconnected"; readonly reason: string; readonly reconnectInMs: number | undefined }
  | { readonly type: "reconnect-failed"; readonly error: ConnectError; readonly reconnectInMs: number | undefined }
  /** `body` is the session's own copy. */
  | { readonly type: "received"; readonly from: string; readonly body: Uint8Array }
  /** A FORWARD whose sender cannot be echoed in a RECEIVED; answered ERROR 103. */
  | { readonly type: "rejected"; readonly from: string; readonly body: Uint8Array }
  /** The server's stream could not be parsed; the connection is dropped. */
  | { readonly type: "protocol-error"; readonly detail: string }
  /** With `presence`: someone else arrived or left (docs/protocol.md D52). */
  | { readonly type: "presence"; readonly user: string; readonly online: boolean }
  /** With `presence`: arrivals and departures were missed; ask who() again (D53). */
  | { readonly type: "presence-missed" };

/** Who is online: `total` of them, `names` as many as the server could list (docs/protocol.md D51). */
export type Online = { readonly total: number; readonly names: readonly string[] };
