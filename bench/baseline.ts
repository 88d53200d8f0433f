// The raw baseline: what Bun itself does with the same four hops
// (A -> relay -> B -> relay -> A) and no protocol. It reads one 8-byte hello
// per connection (bench/raw-wire.ts), then only forwards bytes, through the
// project's Outbox so each turn's output leaves in one write(), like parley.
//
//   bun bench/baseline.ts [--port 0] [--host 127.0.0.1]
// logs `baseline.listening host=... port=N` on stderr; SIGTERM/SIGINT stop it.

import type { Socket } from "bun";
import { Outbox } from "../src/net/outbox.ts";
import { RawKind, ackBytes, decodeHello, helloBytes } from "./raw-wire.ts";

type Group = { sender: RelayConnection | undefined; receivers: RelayConnection[]; ackedBytes: number };

const groups = new Map<number, Group>();
const maxQueuedBytes = 64 * 1024 * 1024;
const senderAck = new Uint8Array(ackBytes);

class RelayConnection {
  readonly outbox: Outbox;
  #hello = new Uint8Array(helloBytes);
  #helloBytes = 0;
  #kind = 0;
  #group: Group | undefined;

  constructor(socket: Socket<RelayConnection>) {
    this.outbox = new Outbox(socket, maxQueuedBytes, () => socket.end());
  }

  onData(chunk: Uint8Array): void {
    if (this.#group === undefined) {
      const take = Math.min(helloBytes - this.#helloBytes, chunk.length);
      this.#hello.set(chunk.subarray(0, take), this.#helloBytes);
      this.#helloBytes += take;
      if (this.#helloBytes < helloBytes) return;
      this.#join();
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    const group = this.#group!;
    switch (this.#kind) {
      case RawKind.Sender:
        group.receivers[0]?.outbox.write(chunk);
        return;
      case RawKind.Receiver:
        group.sender?.outbox.write(chunk);
        return;
      case RawKind.BroadcastSender:
        for (const receiver of group.receivers) receiver.outbox.write(chunk);
        return;
      case RawKind.BroadcastReceiver: {
        // One ack to the sender per full round of acks: exact with one broadcast in flight.
        group.ackedBytes += chunk.length;
        const round = group.receivers.length * ackBytes;
        while (round > 0 && group.ackedBytes >= round) {
          group.ackedBytes -= round;
          group.sender?.outbox.write(senderAck);
        }
        return;
      }
    }
  }

  #join(): void {
    const { kind, group: id } = decodeHello(this.#hello);
    let group = groups.get(id);
    if (group === undefined) {
      group = { sender: undefined, receivers: [], ackedBytes: 0 };
      groups.set(id, group);
    }
    this.#kind = kind;
    this.#group = group;
    if (kind === RawKind.Sender || kind === RawKind.BroadcastSender) group.sender = this;
    if (kind === RawKind.Receiver || kind === RawKind.BroadcastReceiver) group.receivers.push(this);
    this.outbox.write(this.#hello);
  }

  onClose(): void {
    const group = this.#group;
    if (group === undefined) return;
    if (group.sender === this) group.sender = undefined;
    const at = group.receivers.indexOf(this);
    if (at >= 0) group.receivers.splice(at, 1);
  }
}

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const listener = Bun.listen<RelayConnection>({
  hostname: flag("host", "127.0.0.1"),
  port: Number(flag("port", "0")),
  socket: {
    binaryType: "uint8array", // as parley's listener does
    open(socket) {
      socket.data = new RelayConnection(socket);
    },
    data(socket, chunk) {
      socket.data.onData(chunk);
    },
    drain(socket) {
      socket.data.outbox.onDrain();
    },
    close(socket) {
      socket.data?.onClose();
    },
    error() {},
  },
});
process.stderr.write(`baseline.listening host=${listener.hostname} port=${listener.port}\n`);

const stop = () => {
  listener.stop(true);
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
