// The core's two faces, in one file a reader starts from: what a transport
// must offer the core (Wire), and what every connection of one server shares
// (Hub). The core never sees a socket: TCP, TLS, WebSocket and a peer node
// plug in here as equals.

import { defaultLimits, type LimitValues } from "../protocol/limits.ts";
import { Delivery } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import { silentEvents, type EventSink } from "./events.ts";
import { LocalDirectory } from "./local-directory.ts";

/**
 * One client connection as the core writes to it. Messages go out in call
 * order; the bytes passed in are shared and never mutated, by either side.
 */
export interface Wire {
  readonly address: string;
  /** Writes one complete protocol message. */
  write(message: Uint8Array): void;
  /** Writes `FORWARD <from>` with `body` as one message; the transport encodes (and may cache) the header. */
  writeForward(from: string, body: Uint8Array): void;
  /** Bytes the transport holds for this connection and has not yet handed to the peer. */
  readonly queuedBytes: number;
  /** Stops handing the core messages until resume(): the core is waiting on an async step. */
  pause(): void;
  resume(): void;
  /** Flushes what is queued, then closes (docs/protocol.md D21: within a grace). */
  end(): void;
  /** Closes now, dropping what is queued. */
  drop(): void;
}

/** What every connection of one server shares. */
export type Hub = {
  readonly limits: LimitValues;
  readonly directory: Directory;
  readonly delivery: Delivery;
  readonly events: EventSink;
  /** Open connections, registered or not, for shutdown and counts. */
  readonly peers: Set<{ shutdown(): void }>;
};

export type HubOptions = {
  readonly limits?: Partial<LimitValues>;
  readonly events?: EventSink;
  /** Default: one process's own directory. */
  readonly directory?: Directory;
};

export function createHub(options: HubOptions = {}): Hub {
  const limits: LimitValues = { ...defaultLimits, ...options.limits };
  const directory = options.directory ?? new LocalDirectory(limits.registerTimeoutMs);
  return { limits, directory, delivery: new Delivery(directory), events: options.events ?? silentEvents, peers: new Set() };
}
