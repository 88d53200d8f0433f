// The core's two faces, in one file a reader starts from: what a transport
// must offer the core (Wire), and what every connection of one server shares
// (Hub). The core never sees a socket: TCP, TLS, WebSocket and a peer node
// plug in here as equals.

import { defaultLimits, type LimitValues } from "../protocol/limits.ts";
import { parseRange, type AddressRange } from "./address.ts";
import { openAuthority, type Authority } from "./authority.ts";
import { Clock } from "./clock.ts";
import { Metrics } from "./metrics.ts";
import { Delivery } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import { silentEvents, type EventSink } from "./events.ts";
import type { InboxLimits } from "./inbox.ts";
import { LocalDirectory } from "./local-directory.ts";
import { AddressBook, SharedBudget } from "./policy.ts";
import { Presence } from "./presence.ts";

/**
 * One client connection as the core writes to it. Messages go out in call
 * order; the bytes passed in are shared and never mutated, by either side.
 */
export interface Wire {
  readonly address: string;
  /** What carries it, for metrics: tcp, tls, ws. */
  readonly transport: string;
  /** Whether the bytes are protected on the way (TLS): passwords may travel only so, or from trusted addresses. */
  readonly secure: boolean;
  /** Writes one complete protocol message. */
  write(message: Uint8Array): void;
  /** Writes `FORWARD <from>` with `body` as one message; the transport encodes (and may cache) the header. */
  writeForward(from: string, body: Uint8Array): void;
  /** Bytes the transport holds for this connection and has not yet handed to the peer. */
  readonly queuedBytes: number;
  /** Bytes ever written; a FORWARD written when this was N has left once flushedTotal reaches N. */
  readonly queuedTotal: number;
  /** Bytes ever handed to the network (for a socket, to the kernel). */
  readonly flushedTotal: number;
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
  /** Connections and names per address (docs/protocol.md §6 "Connections"). */
  readonly addresses: AddressBook;
  /** FORWARD bytes held for all recipients together (§6 "Memory"). */
  readonly held: SharedBudget;
  /** What each recipient's Inbox holds to: one sender's share of it is never less than one largest message (§6). */
  readonly inboxLimits: InboxLimits;
  /** Who may hold which name (§7 "Accounts"). */
  readonly authority: Authority;
  /** Addresses whose passwords are accepted without TLS (§7). */
  readonly trustPlaintext: readonly AddressRange[];
  /** Read once per chunk by the transport (tick), by everyone else as `now`. */
  readonly clock: Clock;
  /** What /metrics shows; the events above pass through it. */
  readonly metrics: Metrics;
  /** Who is online, and who watches (§7 "Presence"). */
  readonly presence: Presence;
};

export type HubOptions = {
  readonly limits?: Partial<LimitValues>;
  readonly events?: EventSink;
  /** Addresses the per-address caps do not apply to. */
  readonly exempt?: readonly AddressRange[];
  /** Default: one process's own directory. */
  readonly directory?: Directory;
  /** Default: no accounts, every name open. */
  readonly authority?: Authority;
  /** Default: loopback. */
  readonly trustPlaintext?: readonly AddressRange[];
};

/** docs/protocol.md §7: passwords in clear are accepted from loopback only, unless a flag says otherwise. */
export const loopback: readonly AddressRange[] = [parseRange("127.0.0.0/8")!, parseRange("::1")!];

// `FORWARD <32-letter name>\nContent-length: <15 digits>\n\n`, the largest header a FORWARD can have.
const maxForwardHead = 8 + 32 + 17 + 15 + 2;

export function createHub(options: HubOptions = {}): Hub {
  const limits: LimitValues = { ...defaultLimits, ...options.limits };
  const addresses = new AddressBook(
    limits.maxConnections || Number.MAX_SAFE_INTEGER,
    limits.maxConnectionsPerAddress,
    limits.maxNamesPerAddress,
    options.exempt ?? [],
  );
  const directory = options.directory ?? new LocalDirectory(limits.registerTimeoutMs, limits.nameGraceMs, addresses);
  const metrics = new Metrics();
  const events = metrics.tee(options.events ?? silentEvents);
  const clock = new Clock();
  const shareBytes = Math.max(limits.maxShareBytes, limits.maxBodyBytes + maxForwardHead);
  return {
    limits,
    directory,
    delivery: new Delivery(directory, events, clock),
    events,
    peers: new Set(),
    addresses,
    held: new SharedBudget(limits.maxTotalQueuedBytes),
    // FORWARDs must never trip the write cap (docs/protocol.md D20, D27): the
    // wire is topped up to half of it at most, so one more FORWARD still fits.
    inboxLimits: { ...limits, shareBytes, wireBytes: Math.min(shareBytes, Math.floor(limits.maxQueuedBytes / 2)) },
    authority: options.authority ?? openAuthority,
    trustPlaintext: options.trustPlaintext ?? loopback,
    clock,
    metrics,
    presence: new Presence(directory),
  };
}
