// A user's connection as the registry and delivery see it: no socket types,
// so a WebSocket gateway or a peer node can hold a role without changing them.

import type { Transaction } from "./transaction.ts";

export interface Endpoint {
  /** The peer's IP address, for the pairing guard (PROTOCOL.md §3). */
  readonly address: string;
  /** Writes a FORWARD and owes `tx` an answer; false if the recipient cannot take another. */
  forward(tx: Transaction, head: Uint8Array, body: Uint8Array): boolean;
  /** Ends the connection; its registration and open transactions end with it. */
  close(reason: string): void;
}
