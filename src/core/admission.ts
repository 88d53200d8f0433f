// A connection's place among the server's (docs/protocol.md §6 "Connections"):
// over a cap it is answered ERROR 106 and ends before anything else happens
// on it; admitted, it is counted (for shutdown, the caps and metrics) until it leaves.

import { ErrorCode, encodeError } from "../protocol/errors.ts";
import type { Hub, Wire } from "./hub.ts";

const serverBusy = encodeError(ErrorCode.ServerBusy);

/** The connection as the server counts it. */
export type Entrant = { readonly id: number; readonly address: string; shutdown(): void };

/** Whether `entrant` may stay; if not, it has been answered and its wire is ending. */
export function admit(hub: Hub, wire: Wire, entrant: Entrant): boolean {
  if (hub.events.wants("connection.open")) hub.events.emit({ type: "connection.open", id: entrant.id, address: entrant.address });
  const admitted = hub.addresses.admit(entrant.address);
  if (admitted !== "ok") {
    hub.events.emit({ type: "connection.busy", id: entrant.id, address: entrant.address, cap: admitted });
    wire.write(serverBusy);
    wire.end();
    return false;
  }
  hub.peers.add(entrant);
  hub.metrics.connectionOpened(wire.transport);
  return true;
}

/** An admitted connection closed. */
export function leave(hub: Hub, wire: Wire, entrant: Entrant): void {
  hub.peers.delete(entrant);
  hub.metrics.connectionClosed(wire.transport);
  hub.addresses.leave(entrant.address);
}
