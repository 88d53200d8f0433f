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
  ackTimeoutMs: { default: 10_000, min: 1, max: maxTimerMs, unit: "ms", what: "time for a recipient to answer a FORWARD once it is written; then ERROR 102 and the recipient is closed as dead" },
  deliveryDeadlineMs: { default: 20_000, min: 1, max: maxTimerMs, unit: "ms", what: "time from queuing a FORWARD to its answer; then ERROR 102 to the sender, the recipient untouched" },
  writeDeadlineMs: { default: 30_000, min: 1, max: maxTimerMs, unit: "ms", what: "time for the oldest FORWARD queued to a connection to be fully written; then it is closed as a slow consumer" },
  maxPendingForwards: { default: 1024, min: 1, max: 1_000_000, unit: "messages", what: "unanswered FORWARDs from one sender to one recipient; past it: ERROR 102 at once" },
  maxShareBytes: { default: 1024 * 1024, min: 1024, max: 2 ** 32, unit: "bytes", what: "FORWARD bytes from one sender held for one recipient (at least one largest message); past it: ERROR 102 at once" },
  maxQueuedBytes: { default: 8 * 1024 * 1024, min: 1024, max: 2 ** 32, unit: "bytes", what: "replies waiting to be written to one connection; past an eighth its requests are not read, past it all: closed as a slow consumer" },
  maxTotalQueuedBytes: { default: 256 * 1024 * 1024, min: 1024, max: 2 ** 40, unit: "bytes", what: "FORWARD bytes held for all recipients together; past it: ERROR 102 at once" },
  rateMessages: { default: 1000, min: 1, max: 10_000_000, unit: "messages/s", what: "messages read from one connection per second, a broadcast counting once per recipient" },
  burstMessages: { default: 2000, min: 1, max: 100_000_000, unit: "messages", what: "messages one connection may send at once before its rate applies" },
  rateBytes: { default: 1024 * 1024, min: 1024, max: 2 ** 40, unit: "bytes/s", what: "bytes read from one connection per second, a broadcast counting once per recipient" },
  burstBytes: { default: 4 * 1024 * 1024, min: 1024, max: 2 ** 40, unit: "bytes", what: "bytes one connection may send at once before its rate applies; a SEND costing more: ERROR 102" },
  messageCostBytes: { default: 64, min: 0, max: 1024 * 1024, unit: "bytes", what: "what each message costs on top of its header and body" },
  maxConnections: { default: 0, min: 0, max: 10_000_000, unit: "connections", what: "open connections; 0: the file-descriptor limit less a reserve; past it: ERROR 106 and close" },
  maxConnectionsPerAddress: { default: 64, min: 1, max: 10_000_000, unit: "connections", what: "open connections from one address (IPv6: one /64); past it: ERROR 106 and close" },
  maxNamesPerAddress: { default: 32, min: 1, max: 10_000_000, unit: "names", what: "names held from one address (IPv6: one /64); past it: ERROR 106" },
  maxClaimsPerAddress: { default: 3, min: 0, max: 1_000_000, unit: "names", what: "names one address may claim by registering them with a password (with --accounts); past it: ERROR 106" },
  nameGraceMs: { default: 5000, min: 0, max: maxTimerMs, unit: "ms", what: "how long a name lost uncleanly stays reserved for its last address" },
  keepAliveMs: { default: 30_000, min: 1000, max: maxTimerMs, unit: "ms", what: "TCP keepalive idle time before the first probe" },
  maxPresencePending: { default: 256, min: 1, max: 1_000_000, unit: "names", what: "arrivals and departures waiting to be told to one watching connection; past it: they are dropped and it is told RESYNC" },
  logLinesPerSecond: { default: 10, min: 1, max: 1_000_000, unit: "lines/s", what: "log lines one connection may cause per second (burst: 10 s worth); the rest are counted, not written" },
} as const;

export type LimitName = keyof typeof Limits;
export type LimitValues = { readonly [K in LimitName]: number };

export const defaultLimits: LimitValues = Object.fromEntries(
  Object.entries(Limits).map(([name, limit]) => [name, limit.default]),
) as { [K in LimitName]: number };

/** The part of the limits the framer needs; a client reading a server uses the same shape. */
export type FramerLimits = Pick<LimitValues, "maxHeaderBytes" | "maxBodyBytes">;
