// One real server on 127.0.0.1 port 0 plus every Peer a test opened, closed
// together: `await using cast = openCast(limits)`. Users register over the
// wire exactly as a client would.

import type { LimitValues } from "../../src/protocol/limits.ts";
import type { RunningServer } from "../../src/server.ts";
import { Peer, register, show } from "./peer.ts";
import { testServer } from "./server.ts";

/** A registered user: two connections, or one in single-connection mode. */
export type Member = { readonly name: string; readonly sender: Peer; readonly receiver: Peer };

/**
 * Waits until `condition` holds, checking every few milliseconds, for state the
 * wire does not announce (a server noticing that a peer left).
 */
export async function eventually(condition: () => boolean, what: string, deadlineMs = 2000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting until ${what}`);
    await Bun.sleep(2);
  }
}

export class Cast {
  readonly server: RunningServer;
  readonly #peers: Peer[] = [];

  constructor(server: RunningServer) {
    this.server = server;
  }

  get port(): number {
    return this.server.port;
  }

  /** A raw connection that registers nothing by itself; closed with the cast. */
  async connect(label = "peer", port = this.server.port): Promise<Peer> {
    const peer = await Peer.connect(port, label);
    this.#peers.push(peer);
    return peer;
  }

  /** Connects and registers `name`, TOSEND first, on two connections or on one. */
  async join(name: string, mode: "two-connection" | "single-connection" = "two-connection"): Promise<Member> {
    const sender = await this.connect(`${name}(send)`);
    const receiver = mode === "single-connection" ? sender : await this.connect(`${name}(recv)`);
    await register(sender, "TOSEND", name);
    await register(receiver, "TORECV", name);
    return { name, sender, receiver };
  }

  /** Fails if any open connection holds bytes the test did not expect. */
  expectNothingUnread(): void {
    for (const peer of this.#peers) {
      if (peer.unread.length > 0) throw new Error(`${peer.label} has unexpected bytes ${show(peer.unread)}`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const peer of this.#peers.splice(0)) peer.close();
    await this.server.stop();
  }
}

export function openCast(limits: Partial<LimitValues> = {}): Cast {
  return new Cast(testServer(limits));
}
