// Where the raw relays (bench/baseline.ts over TCP, bench/baseline-ws.ts over
// WebSocket) send what a connection writes: its hello (bench/raw-wire.ts)
// puts it in a group as one side, and from then on its bytes go to the other
// side with no look at them, beyond counting a broadcast's acks.

import { RawKind, ackBytes, decodeHello } from "./raw-wire.ts";

/** A connection as the routing sees it: something that takes bytes for its peer. */
export interface RawPeer {
  send(bytes: Uint8Array): void;
}

type Group = { sender: RawPeer | undefined; receivers: RawPeer[]; ackedBytes: number };

const groups = new Map<number, Group>();
const senderAck = new Uint8Array(ackBytes);

export class RawRoute {
  readonly #peer: RawPeer;
  readonly #kind: number;
  readonly #group: Group;

  /** Joins the group `hello` names and answers it with the hello itself. */
  constructor(peer: RawPeer, hello: Uint8Array) {
    const { kind, group: id } = decodeHello(hello);
    let group = groups.get(id);
    if (group === undefined) {
      group = { sender: undefined, receivers: [], ackedBytes: 0 };
      groups.set(id, group);
    }
    this.#peer = peer;
    this.#kind = kind;
    this.#group = group;
    if (kind === RawKind.Sender || kind === RawKind.BroadcastSender) group.sender = peer;
    if (kind === RawKind.Receiver || kind === RawKind.BroadcastReceiver) group.receivers.push(peer);
    peer.send(hello);
  }

  /** Bytes the connection wrote after its hello: records to the receivers, acks to the sender. */
  relay(bytes: Uint8Array): void {
    const group = this.#group;
    switch (this.#kind) {
      case RawKind.Sender:
        group.receivers[0]?.send(bytes);
        return;
      case RawKind.Receiver:
        group.sender?.send(bytes);
        return;
      case RawKind.BroadcastSender:
        for (const receiver of group.receivers) receiver.send(bytes);
        return;
      case RawKind.BroadcastReceiver: {
        // One ack to the sender per full round of acks: exact with one broadcast in flight.
        group.ackedBytes += bytes.length;
        const round = group.receivers.length * ackBytes;
        while (round > 0 && group.ackedBytes >= round) {
          group.ackedBytes -= round;
          group.sender?.send(senderAck);
        }
        return;
      }
    }
  }

  leave(): void {
    const group = this.#group;
    if (group.sender === this.#peer) group.sender = undefined;
    const at = group.receivers.indexOf(this.#peer);
    if (at >= 0) group.receivers.splice(at, 1);
  }
}
