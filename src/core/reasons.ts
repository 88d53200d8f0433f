// Stable, machine-readable reasons (after ws's `err.code`): why a SEND failed
// and why a connection closed. Logs, tests and (later) metrics and the
// `Reason` field of ERROR 102 read these words, never free text.

/** Why a SEND was answered ERROR 102 (docs/protocol.md §4). */
export const FailReason = {
  NoRecipient: "no-recipient",
  QueueFull: "queue-full",
  RecipientError: "recipient-error",
  WrongAnswer: "wrong-answer",
  Timeout: "timeout",
  Disconnected: "disconnected",
  SlowConsumer: "slow-consumer",
  Shutdown: "shutdown",
  ServerBusy: "server-busy",
  RateLimited: "rate-limited",
  ClusterDown: "cluster-down",
} as const;
export type FailReason = (typeof FailReason)[keyof typeof FailReason];

/**
 * docs/protocol.md D50: the `Reason` of an ERROR 102, for a client that asked
 * for reasons: a few words a person can be told, not the server's internals.
 */
export const failureReason: { readonly [F in FailReason]: string } = {
  "no-recipient": "offline",
  "queue-full": "busy",
  "recipient-error": "refused",
  "wrong-answer": "refused",
  timeout: "timeout",
  disconnected: "offline",
  "slow-consumer": "offline",
  shutdown: "shutdown",
  "server-busy": "busy",
  "rate-limited": "rate-limited",
  "cluster-down": "unreachable",
};

/** Why the server closed (or lost) a connection. */
export const CloseReason = {
  PeerClosed: "peer-closed",
  PeerEnded: "peer-ended",
  PartnerClosed: "partner-closed",
  RegisterTimeout: "register-timeout",
  PairingTimeout: "pairing-timeout",
  AckTimeout: "ack-timeout",
  WriteDeadline: "write-deadline",
  SlowConsumer: "slow-consumer",
  ProtocolError: "protocol-error",
  Shutdown: "shutdown",
  ServerBusy: "server-busy",
  Fenced: "fenced",
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** What a close does to the deliveries the connection is part of. */
export const closeFailure: { readonly [C in CloseReason]: FailReason } = {
  "peer-closed": FailReason.Disconnected,
  "peer-ended": FailReason.Disconnected,
  "partner-closed": FailReason.Disconnected,
  "register-timeout": FailReason.Disconnected,
  "pairing-timeout": FailReason.Disconnected,
  "ack-timeout": FailReason.Timeout,
  "write-deadline": FailReason.SlowConsumer,
  "slow-consumer": FailReason.SlowConsumer,
  "protocol-error": FailReason.Disconnected,
  shutdown: FailReason.Shutdown,
  "server-busy": FailReason.ServerBusy,
  fenced: FailReason.ClusterDown,
};

/**
 * docs/protocol.md §6 "Names": a loss the client did not choose keeps the
 * name for its address a little while, so a blip does not hand it to whoever
 * is fastest. A close the client asked for (its FIN), or the server's own, frees it.
 */
export const closeReservesName: { readonly [C in CloseReason]: boolean } = {
  "peer-closed": true,
  "peer-ended": false,
  "partner-closed": false,
  "register-timeout": false,
  "pairing-timeout": false,
  "ack-timeout": true,
  "write-deadline": true,
  "slow-consumer": true,
  "protocol-error": false,
  shutdown: false,
  "server-busy": false,
  fenced: false,
};
