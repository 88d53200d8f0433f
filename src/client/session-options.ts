// What a session is told when it is made, and what it assumes when it is not.

import type { TlsClient } from "../net/tcp.ts";
import { defaultLimits, Limits, type FramerLimits } from "../protocol/limits.ts";
import type { Backoff } from "./backoff.ts";
import type { Connector } from "./connector.ts";
import type { SessionEvent } from "./session-events.ts";

export type SessionOptions = {
  /** Where the server is; with the default connector, where TCP connects. */
  readonly host: string;
  readonly port: number;
  /** How each connection is opened. Default: TCP to host:port, over TLS with `tls`. */
  readonly connect?: Connector;
  /** With a `connect` of its own: whether it protects the bytes on the way (TLS, wss:). */
  readonly secure?: boolean;
  readonly tls?: TlsClient;
  /** Sent with REGISTER, as these bytes (docs/protocol.md §7); only over TLS or to this machine. */
  readonly password?: Uint8Array;
  readonly user: string;
  /** Reconnect after losing an established connection; false to stay down. Default 0.5 s doubling to 10 s. */
  readonly reconnect?: Backoff | false;
  /** Connecting and registering both roles must finish within this. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Bodies over this are refused before they are written (the server closes on them), unless the server says its own limit (docs/protocol.md D69). Default: the server's default. */
  readonly maxBodyBytes?: number;
  /** What the client accepts from the server. */
  readonly limits?: FramerLimits;
  /** Ask to be told who arrives and leaves (presence events). */
  readonly presence?: boolean;
  /** For servers that read one message per recv() (docs/protocol.md D68): see LinkOptions.compat; one SEND in flight at a time. */
  readonly compat?: boolean;
  readonly onEvent?: (event: SessionEvent) => void;
};

export const sessionDefaults = {
  connectTimeoutMs: 10_000,
  // The original design's limit and parley's default (docs/protocol.md D69).
  maxBodyBytes: defaultLimits.maxBodyBytes,
  // A server may be configured for bodies up to the largest limit it takes; reading them costs the client nothing.
  limits: { maxHeaderBytes: defaultLimits.maxHeaderBytes, maxBodyBytes: Limits.maxBodyBytes.max } satisfies FramerLimits,
} as const;
