// A user's connection as the directory and delivery see it: no socket types,
// so a TCP connection, a WebSocket or a peer node can hold a role alike.

import type { CloseReason, FailReason } from "./reasons.ts";
import type { Transaction } from "./transaction.ts";

export interface Endpoint {
  /** The name it holds a role of, as spelled when it registered. */
  readonly name: string | undefined;
  /** The peer's IP address, for the pairing guard (docs/protocol.md §3). */
  readonly address: string;
  /** How many users it stands for in a broadcast (a whole other node's, docs/protocol.md D61); default 1. */
  readonly recipients?: number;
  /**
   * Queues `FORWARD <tx.from>` with `body`, which then owes `tx` an answer;
   * or says why the recipient cannot take it. The endpoint encodes its own wire form.
   */
  forward(tx: Transaction, body: Uint8Array): FailReason | undefined;
  /** Ends the connection; its registration and open transactions end with it. */
  close(reason: CloseReason): void;
}
