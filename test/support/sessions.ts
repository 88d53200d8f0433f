// Real parley clients (src/client/session.ts) chatting through a server and
// feeding the InvariantChecker: the honest group of the restart test, where
// what is under test includes the client's own reconnection.

import { Session, type Outcome, type SessionEvent } from "../../src/client/session.ts";
import type { InvariantChecker } from "./invariants.ts";
import type { Rng } from "./prng.ts";
import { Changes } from "./changes.ts";

export type SessionGroupOptions = {
  port: number;
  names: readonly string[];
  checker: InvariantChecker;
  rng: Rng;
  /** SENDs in flight per client. */
  window?: number;
  /** Share of SENDs to ALL. */
  broadcast?: number;
};

type Member = { name: string; session: Session; up: boolean; inFlight: number; conn: string; connects: number };

export class SessionGroup {
  readonly members: Member[] = [];
  readonly faults: string[] = [];
  readonly #options: Required<SessionGroupOptions>;
  #running = true;
  readonly #changes = new Changes();
  #serial = 0;

  private constructor(options: SessionGroupOptions) {
    this.#options = { window: 4, broadcast: 0.1, ...options };
  }

  static async start(options: SessionGroupOptions): Promise<SessionGroup> {
    const group = new SessionGroup(options);
    for (const name of options.names) {
      options.checker.honest(name);
      const member: Member = { name, session: undefined as unknown as Session, up: false, inFlight: 0, conn: "", connects: 0 };
      member.session = new Session({
        host: "127.0.0.1",
        port: options.port,
        user: name,
        // Quick retries: the test restarts the server at once.
        reconnect: { initialMs: 20, maxMs: 200 },
        connectTimeoutMs: 3000,
        onEvent: (event) => group.#onEvent(member, event),
      });
      group.members.push(member);
    }
    const errors = await Promise.all(group.members.map((m) => m.session.connect()));
    const failed = errors.find((e) => e !== undefined);
    if (failed !== undefined) throw new Error(`a client could not connect: ${JSON.stringify(failed)}`);
    for (const member of group.members) group.#pump(member);
    return group;
  }

  /** Replies (SENT or ERROR 102) and losses seen so far. */
  get settled(): number {
    const c = this.#options.checker.counts;
    return c.replies + c.lost;
  }

  get allUp(): boolean {
    return this.members.every((m) => m.up);
  }

  #onEvent(member: Member, event: SessionEvent): void {
    const checker = this.#options.checker;
    switch (event.type) {
      case "connected":
        member.up = true;
        member.connects++;
        member.conn = `${member.name}#${member.connects}`;
        checker.memberUp(member.name);
        if (this.allUp) for (const each of this.members) this.#pump(each);
        break;
      case "disconnected":
        member.up = false;
        checker.memberDown(member.name);
        break;
      case "received":
        // The session writes RECEIVED right after this event, before any reply can arrive.
        checker.forward(member.name, event.from, event.body);
        checker.received(member.name, event.body);
        break;
      case "rejected":
      case "protocol-error":
        this.faults.push(`${member.name}: ${JSON.stringify(event)}`);
        break;
    }
    this.#changed();
  }

  #pump(member: Member): void {
    const { checker, rng, window, broadcast, names } = this.#options;
    // Only while every client is connected: src/client/link.ts drops a FORWARD
    // that arrives between the server registering a client and the client's
    // own open() finishing, and would never answer it (reported; not ours to fix).
    while (this.#running && this.allUp && member.session.state === "ready" && member.inFlight < window) {
      const to = rng.chance(broadcast) ? "ALL" : rng.pick(names);
      const body = checker.body(member.name, new TextEncoder().encode(`restart test ${++this.#serial}`));
      const conn = member.conn;
      checker.send(conn, member.name, to, body);
      member.inFlight++;
      void member.session.send(to, body).then((outcome) => this.#settle(member, conn, outcome));
    }
  }

  #settle(member: Member, conn: string, outcome: Outcome): void {
    const checker = this.#options.checker;
    member.inFlight--;
    if (outcome.kind === "delivered") checker.reply(conn, "SENT", outcome.to);
    else if (outcome.reason === "unable-to-send") checker.reply(conn, "ERROR", "102");
    else if (outcome.reason === "connection-lost" || outcome.reason === "not-connected") checker.lost(conn);
    else checker.reply(conn, "ERROR", outcome.reason);
    this.#changed();
    this.#pump(member);
  }

  #changed(): void {
    this.#changes.changed();
  }

  async waitFor(done: () => boolean, deadlineMs: number, what: string): Promise<void> {
    await this.#changes.until(done, deadlineMs, () => `waiting for ${what}; ${this.#options.checker.summary()}`, 250);
  }

  /** Waits until `count` more SENDs were settled by a reply. */
  async progress(count: number, deadlineMs = 5000): Promise<void> {
    const target = this.#options.checker.counts.replies + count;
    await this.waitFor(() => this.#options.checker.counts.replies >= target, deadlineMs, `${count} more replies`);
  }

  /** Stops sending and waits for every outcome. */
  async quiesce(deadlineMs = 5000): Promise<void> {
    this.#running = false;
    await this.waitFor(() => this.members.every((m) => m.inFlight === 0), deadlineMs, "every client SEND to settle");
  }

  async close(): Promise<void> {
    this.#running = false;
    await Promise.all(this.members.map((m) => m.session.close()));
  }
}
