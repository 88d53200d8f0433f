// Delivery between nodes (docs/protocol.md D60): a FORWARD to a user on
// another node is a NATS request to that node, which forwards it to its
// local user and answers once that user answered. Only an explicit "sent"
// reply acks the sender's transaction: a lost reply, a timeout, a dead node
// or a lost bus all fail it (ERROR 102), so a lost message can be reported
// as not delivered, but nothing undelivered is ever reported SENT.

import type { Msg, Subscription } from "@nats-io/transport-node";
import { Delivery } from "../core/delivery.ts";
import type { Directory } from "../core/directory.ts";
import type { Endpoint } from "../core/endpoint.ts";
import { BROADCAST } from "../protocol/names.ts";
import { FailReason, type CloseReason } from "../core/reasons.ts";
import { Transaction } from "../core/transaction.ts";
import type { Bus } from "./bus.ts";

const forwardSubject = (node: string) => `parley.node.${node}.forward`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sent = encoder.encode("sent");
const failReasons: ReadonlySet<string> = new Set(Object.values(FailReason));

/** A user on another node, or (named ALL) every user of another node for a broadcast, as the directory hands it to delivery. */
export class RemoteEndpoint implements Endpoint {
  readonly name: string;
  readonly node: string;
  readonly address = "remote";
  readonly recipients: number;
  readonly #courier: Courier;

  constructor(name: string, node: string, courier: Courier, recipients = 1) {
    this.name = name;
    this.node = node;
    this.#courier = courier;
    this.recipients = recipients;
  }

  forward(tx: Transaction, body: Uint8Array): FailReason | undefined {
    return this.#courier.send(this.node, this.name, tx, body);
  }

  /** A user on another node is closed by its own node. */
  close(_reason: CloseReason): void {}
}

export type CourierOptions = {
  readonly node: string;
  /** The answer to one FORWARD may take this long on the other node; past it and a margin, it is failed here. */
  readonly deliveryDeadlineMs: number;
  /** Whether the connection to NATS is up now. */
  readonly up: () => boolean;
  /** This node's own users, once the server exists: FORWARDs from other nodes are delivered among them. */
  readonly local: () => Directory | undefined;
};

export class Courier {
  readonly #bus: Bus;
  readonly #options: CourierOptions;
  // Transactions waiting on each node, so a dead node or a lost bus fails them at once.
  readonly #waiting = new Map<string, Set<Transaction>>();
  #subscription: Subscription | undefined;
  #delivery: Delivery | undefined;

  constructor(bus: Bus, options: CourierOptions) {
    this.#bus = bus;
    this.#options = options;
  }

  /** Starts taking FORWARDs for this node's users. */
  serve(): void {
    this.#subscription = this.#bus.connection.subscribe(forwardSubject(this.#options.node), { callback: (_error, msg) => this.#deliver(msg) });
  }

  stop(): void {
    this.#subscription?.unsubscribe();
    this.failAll(FailReason.Shutdown);
  }

  /** Whether the connection to NATS is up; nats.js reconnects forever while it is not. */
  get up(): boolean {
    return this.#options.up();
  }

  send(node: string, to: string, tx: Transaction, body: Uint8Array): FailReason | undefined {
    const nc = this.#bus.connection;
    // docs/protocol.md D62: a request written now would wait in nats.js's buffer until its timeout; say so at once.
    if (!this.#options.up() || nc.isClosed()) return FailReason.ClusterDown;
    let waiting = this.#waiting.get(node);
    if (waiting === undefined) this.#waiting.set(node, (waiting = new Set()));
    waiting.add(tx);
    const headers = this.#bus.headers();
    headers.set("from", tx.from);
    headers.set("to", to);
    nc.request(forwardSubject(node), body, { timeout: this.#options.deliveryDeadlineMs + 2000, headers })
      .then(
        (reply) => {
          const answer = decoder.decode(reply.data);
          if (answer === "sent") tx.ack();
          else tx.fail(failReasons.has(answer) ? (answer as FailReason) : FailReason.RecipientError);
        },
        (error: { isNoResponders?: () => boolean }) => tx.fail(error.isNoResponders?.() ? FailReason.NoRecipient : FailReason.ClusterDown),
      )
      .finally(() => waiting.delete(tx));
    return undefined;
  }

  /** `node` is dead or silent: what waits on it will not be answered. */
  failNode(node: string, reason: FailReason): void {
    const waiting = this.#waiting.get(node);
    if (waiting === undefined) return;
    this.#waiting.delete(node);
    for (const tx of waiting) tx.fail(reason);
  }

  failAll(reason: FailReason): void {
    for (const node of [...this.#waiting.keys()]) this.failNode(node, reason);
  }

  /** A FORWARD for a user of this node, or a broadcast to all of them: the same delivery as a SEND here, among this node's users only. */
  #deliver(msg: Msg): void {
    const from = msg.headers?.get("from") ?? "";
    const to = msg.headers?.get("to") ?? "";
    const local = this.#options.local();
    if (local === undefined || from === "" || to === "") return void msg.respond(encoder.encode(FailReason.NoRecipient));
    this.#delivery ??= new Delivery(local);
    // A copy: the inbox may hold the body until the recipient reads it.
    const tx = this.#delivery.send(from, to, new Uint8Array(msg.data));
    // docs/protocol.md D61: the sender's node counted this node's users; nobody left here to tell is no failure.
    if (!(tx instanceof Transaction)) return void msg.respond(tx === FailReason.NoRecipient && to === BROADCAST ? sent : encoder.encode(tx));
    tx.onSettled(() => void msg.respond(tx.outcome!.kind === "sent" ? sent : encoder.encode((tx.outcome as { reason: FailReason }).reason)));
  }
}
