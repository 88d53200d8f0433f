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
} as const;
export type FailReason = (typeof FailReason)[keyof typeof FailReason];

/** Why the server closed (or lost) a connection. */
export const CloseReason = {
  PeerClosed: "peer-closed",
  PeerEnded: "peer-ended",
  PartnerClosed: "partner-closed",
  RegisterTimeout: "register-timeout",
  PairingTimeout: "pairing-timeout",
  AckTimeout: "ack-timeout",
  SlowConsumer: "slow-consumer",
  ProtocolError: "protocol-error",
  Shutdown: "shutdown",
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
  "slow-consumer": FailReason.SlowConsumer,
  "protocol-error": FailReason.Disconnected,
  shutdown: FailReason.Shutdown,
};
