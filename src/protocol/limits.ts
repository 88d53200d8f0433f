// The server's limits (docs/protocol.md §1 "Limits"), defined once. The CLI turns
// each key into a flag and an environment variable, accepting [min, max]; the
// README table is checked against this object by test/readme.test.ts.

// Timers take at most 2^31 - 1 ms (a longer delay fires at once), and so does
// TCP keepalive; a header limit under 64 bytes could not hold a valid SEND.
const maxTimerMs = 2 ** 31 - 1;

export const Limits = {
  maxHeaderBytes: { default: 8192, min: 64, max: 1024 * 1024, unit: "bytes", what: "header block size; over it: ERROR 103 and close" },
  maxBodyBytes: { default: 65536, min: 0, max: 64 * 1024 * 1024, unit: "bytes", what: "Content-length; over it: ERROR 103 and close, body never buffered" },
  registerTimeoutMs: { default: 30_000, min: 1, max: maxTimerMs, unit: "ms", what: "time to register a role, and for a user to hold both roles" },
  ackTimeoutMs: { default: 10_000, min: 1, max: maxTimerMs, unit: "ms", what: "time for a recipient to answer a FORWARD; then ERROR 102 and the recipient is closed" },
  maxPendingForwards: { default: 1024, min: 1, max: 1_000_000, unit: "messages", what: "unanswered FORWARDs queued to one recipient; past it: ERROR 102 at once" },
  maxQueuedBytes: { default: 8 * 1024 * 1024, min: 1024, max: 2 ** 32, unit: "bytes", what: "bytes waiting to be written to one connection; past it: closed as a slow consumer" },
  keepAliveMs: { default: 30_000, min: 1000, max: maxTimerMs, unit: "ms", what: "TCP keepalive idle time before the first probe" },
} as const;

export type LimitName = keyof typeof Limits;
export type LimitValues = { readonly [K in LimitName]: number };

export const defaultLimits: LimitValues = Object.fromEntries(
  Object.entries(Limits).map(([name, limit]) => [name, limit.default]),
) as { [K in LimitName]: number };

/** The part of the limits the framer needs; a client reading a server uses the same shape. */
export type FramerLimits = Pick<LimitValues, "maxHeaderBytes" | "maxBodyBytes">;
