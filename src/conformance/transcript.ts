// What a protocol transcript is (Prosody scansion style): a cast of users,
// the exact bytes each one sends and expects, and what it checks. One
// catalogue of them (catalogue.ts) runs in the project's suite
// (test/scenarios) and in `parley conformance` against any server.

import type { LimitValues } from "../protocol/limits.ts";
import { latin1, toBytes, type Bytes } from "./bytes.ts";
import type { Loose } from "./matching.ts";

export type Mode = "two-connection" | "single-connection";

/** One connection as a transcript drives it; the suite's raw client and the kit's (wire-client.ts) both are one. */
export interface Line {
  readonly label: string;
  send(data: Bytes): void;
  /** Waits until the next messages are `expected`; `loose` names fields the contract leaves free (matching.ts). */
  receives(expected: Bytes, loose?: Loose): Promise<void>;
  /** Waits for the server to close the connection, with nothing unread left. */
  closes(): Promise<void>;
  /** Closes at once, as a client that leaves. */
  close(): void;
  /** Half-closes: sends FIN and keeps reading. */
  shutdown(): void;
}

/** A registered member of the cast; `${alice}` in a transcript is the name the run gave alice. */
export class User {
  constructor(
    readonly name: string,
    readonly onSender: Line,
    readonly onReceiver: Line,
  ) {}

  /** SEND and REGISTER TOSEND go out on the sending connection; answers on the receiving one. */
  send(data: Bytes): void {
    (startsWith(data, "SEND ") || startsWith(data, "REGISTER TOSEND") ? this.onSender : this.onReceiver).send(data);
  }

  /** FORWARD and REGISTERED TORECV arrive on the receiving connection; replies on the sending one. */
  receives(data: Bytes, loose?: Loose): Promise<void> {
    return (startsWith(data, "FORWARD ") || startsWith(data, "REGISTERED TORECV") ? this.onReceiver : this.onSender).receives(data, loose);
  }

  /** Drops both connections, as a crashed client would. */
  disconnect(): void {
    this.onSender.close();
    this.onReceiver.close();
  }

  toString(): string {
    return this.name;
  }
}

export type Stage = {
  readonly mode: Mode;
  /** The name this run gives `base` (the suite: `base` itself; the kit: `base` and a random suffix). */
  name(base: string): string;
  /** A raw connection that registers nothing by itself; `label` up to "(" names its user. */
  connect(label?: string): Promise<Line>;
  /** Connects and registers the user `base` in the current mode. */
  join(base: string): Promise<User>;
};

/** A contract section of PROTOCOL.md, or one of parley's decisions in docs/protocol.md. */
export type Citation = `§${number}` | `D${number}`;

/** contract: PROTOCOL.md §1-5; version 2: its §6-7; parley: a D-entry, which never fails another server. */
export type Section = "contract" | "version 2" | "parley";

export type Transcript = {
  /** Short and stable: what `parley conformance --only` takes. */
  readonly id: string;
  readonly title: string;
  readonly checks: Citation;
  readonly section: Section;
  /** Whether a lenient reading (deviations.ts) still meets it: the contract's checks accept one, parley's decisions do not. */
  readonly deviations: "accepted" | "refused";
  /** Needs the version 2 extensions (the kit runs it only with --extensions). */
  readonly extensions: boolean;
  /** Users registered before it starts. */
  readonly cast: readonly string[];
  /** Server limits it needs; the kit cannot set another server's, so it skips these. */
  readonly limits?: Partial<LimitValues>;
  /** Only these modes, when a rule is about connections themselves. */
  readonly modes?: readonly Mode[];
  /** The kit runs every transcript with two connections per user, the original design's way; these also with one. */
  readonly kitModes?: readonly Mode[];
  /**
   * Against several nodes, every user on one: its assertions rest on the order
   * of what one node reads from several connections, which a cluster does not
   * keep across nodes (docs/protocol.md D61).
   */
  readonly oneNode?: boolean;
  run(users: Record<string, User>, stage: Stage): Promise<void>;
};

type Head = Pick<Transcript, "id" | "title" | "cast"> & Partial<Pick<Transcript, "limits" | "modes" | "kitModes" | "extensions" | "oneNode">>;

/** A check of PROTOCOL.md: §1-5 always, §6-7 with the extensions. */
export function contract(checks: `§${number}`, head: Head, run: Transcript["run"]): Transcript {
  const version2 = checks === "§6" || checks === "§7";
  return { ...head, checks, run, section: version2 ? "version 2" : "contract", deviations: "accepted", extensions: head.extensions ?? version2 };
}

/** A check of one of parley's own decisions (docs/protocol.md), reported apart. */
export function decision(checks: `D${number}`, head: Head, run: Transcript["run"]): Transcript {
  return { ...head, checks, run, section: "parley", deviations: "refused", extensions: head.extensions ?? false };
}

function startsWith(data: Bytes, prefix: string): boolean {
  const bytes = toBytes(data);
  return latin1(bytes, 0, Math.min(prefix.length, bytes.length)) === prefix;
}

async function register(line: Line, role: "TOSEND" | "TORECV", name: string): Promise<void> {
  line.send(`REGISTER ${role} ${name}\n\n`);
  await line.receives(`REGISTERED ${role} ${name}\n\n`);
}

/** Registers `name`, TOSEND first, on two connections or on one, labelled by `base`. */
export async function join(base: string, name: string, mode: Mode, connect: (label: string) => Promise<Line>): Promise<User> {
  const sender = await connect(`${base}(send)`);
  const receiver = mode === "two-connection" ? await connect(`${base}(recv)`) : sender;
  await register(sender, "TOSEND", name);
  await register(receiver, "TORECV", name);
  return new User(name, sender, receiver);
}
