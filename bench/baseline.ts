// The raw TCP baseline: what Bun itself does with the same four hops
// (A -> relay -> B -> relay -> A) and no protocol. It reads one 8-byte hello
// per connection (bench/raw-wire.ts), then only forwards bytes
// (bench/raw-route.ts), through the project's Outbox so each turn's output
// leaves in one write(), like parley.
//
//   bun bench/baseline.ts [--port 0] [--host 127.0.0.1]
// logs `baseline.listening host=... port=N` on stderr; SIGTERM/SIGINT stop it.

import type { Socket } from "bun";
import { Outbox } from "../src/net/outbox.ts";
import { RawRoute, type RawPeer } from "./raw-route.ts";
import { helloBytes, relayAddress } from "./raw-wire.ts";

const maxQueuedBytes = 64 * 1024 * 1024;

class RelayConnection implements RawPeer {
  readonly outbox: Outbox;
  #hello = new Uint8Array(helloBytes);
  #helloBytes = 0;
  #route: RawRoute | undefined;

  constructor(socket: Socket<RelayConnection>) {
    this.outbox = new Outbox(socket, maxQueuedBytes, () => socket.end());
  }

  send(bytes: Uint8Array): void {
    this.outbox.write(bytes);
  }

  onData(chunk: Uint8Array): void {
    if (this.#route === undefined) {
      const take = Math.min(helloBytes - this.#helloBytes, chunk.length);
      this.#hello.set(chunk.subarray(0, take), this.#helloBytes);
      this.#helloBytes += take;
      if (this.#helloBytes < helloBytes) return;
      this.#route = new RawRoute(this, this.#hello);
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    this.#route.relay(chunk);
  }

  onClose(): void {
    this.#route?.leave();
  }
}

const listener = Bun.listen<RelayConnection>({
  ...relayAddress(process.argv),
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
