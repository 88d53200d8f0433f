// The raw WebSocket baseline: what Bun.serve's WebSockets do with the same
// four hops (A -> relay -> B -> relay -> A) and no protocol. A socket's first
// message is its 8-byte hello (bench/raw-wire.ts); after it, each message goes
// to the other side as one message (bench/raw-route.ts). The messages one turn
// sends a socket leave corked, in one write, as the TCP baseline's outbox
// sends a turn's bytes: Bun runs the microtasks between two message
// callbacks, so here the turn ends at setImmediate (bench/README.md "WebSocket").
//
//   bun bench/baseline-ws.ts [--port 0] [--host 127.0.0.1]
// logs `baseline.listening transport=ws host=... port=N` on stderr; SIGTERM/SIGINT stop it.

import type { ServerWebSocket } from "bun";
import { RawRoute, type RawPeer } from "./raw-route.ts";
import { helloBytes, relayAddress } from "./raw-wire.ts";

type Data = { connection?: WebSocketRelayConnection };

class WebSocketRelayConnection implements RawPeer {
  readonly #ws: ServerWebSocket<Data>;
  // This turn's messages for the socket, and any Bun dropped (send() returned 0) until its drain.
  #queue: Uint8Array[] = [];
  #scheduled = false;
  #blocked = false;
  #route: RawRoute | undefined;

  constructor(ws: ServerWebSocket<Data>) {
    this.#ws = ws;
  }

  send(message: Uint8Array): void {
    this.#queue.push(message);
    if (this.#scheduled || this.#blocked) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  onMessage(message: Uint8Array): void {
    if (this.#route !== undefined) return this.#route.relay(message);
    if (message.length !== helloBytes) return this.#ws.close(1002);
    this.#route = new RawRoute(this, message);
  }

  onDrain(): void {
    this.#blocked = false;
    this.#flush();
  }

  onClose(): void {
    this.#route?.leave();
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const queue = this.#queue;
    let sent = 0;
    this.#ws.cork((ws) => {
      // 0: over the backpressure limit, dropped: it and the rest wait for drain. -1: Bun holds it.
      while (sent < queue.length && ws.send(queue[sent]!) !== 0) sent++;
    });
    this.#blocked = sent < queue.length;
    this.#queue = sent === queue.length ? [] : queue.slice(sent);
  };
}

const server = Bun.serve<Data>({
  ...relayAddress(process.argv),
  fetch(req, server) {
    if (server.upgrade(req, { data: {} })) return undefined;
    return new Response("Expected a WebSocket upgrade\n", { status: 426 });
  },
  websocket: {
    data: {} as Data,
    // As parley's (docs/protocol.md D48): Bun holds little, the relay queues the rest.
    backpressureLimit: 64 * 1024,
    closeOnBackpressureLimit: false,
    open(ws) {
      ws.data.connection = new WebSocketRelayConnection(ws);
    },
    message(ws, message) {
      ws.data.connection!.onMessage(typeof message === "string" ? Buffer.from(message) : message);
    },
    drain(ws) {
      ws.data.connection?.onDrain();
    },
    close(ws) {
      ws.data.connection?.onClose();
    },
  },
});
process.stderr.write(`baseline.listening transport=ws host=${server.hostname} port=${server.port}\n`);

const stop = () => {
  void server.stop(true);
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
