// Runs protocol transcripts (Prosody scansion style) against any target: an
// in-process server, a spawned binary, later N nodes. Every transcript runs
// with each user on two connections and again on one connection.

import { afterEach, describe, test } from "bun:test";
import type { LimitValues } from "../../src/protocol/limits.ts";
import { Peer, bytes, show, type Bytes } from "../support/peer.ts";

export type Mode = "two-connection" | "single-connection";
export const modes: readonly Mode[] = ["two-connection", "single-connection"];

/** Something that serves the protocol on a port; with `ca`, over TLS trusting that certificate. */
export type Target = {
  readonly name: string;
  /** Default: every mode. */
  readonly modes?: readonly Mode[];
  /** With `webSocket`, a URL: every connection is a WebSocket there instead of TCP to `port` (wss:// trusting `ca`). */
  start(limits: Partial<LimitValues>): Promise<{ readonly port: number; readonly ca?: string; readonly webSocket?: string; stop(): Promise<void> }>;
};

/** A registered member of the cast. Messages are routed to the right connection by their verb. */
export class User {
  readonly name: string;
  readonly onSender: Peer;
  readonly onReceiver: Peer;

  constructor(name: string, onSender: Peer, onReceiver: Peer) {
    this.name = name;
    this.onSender = onSender;
    this.onReceiver = onReceiver;
  }

  /** SEND and REGISTER TOSEND go out on the sending connection; answers on the receiving one. */
  send(data: Bytes): void {
    (startsWith(data, "SEND ") || startsWith(data, "REGISTER TOSEND") ? this.onSender : this.onReceiver).send(data);
  }

  /** FORWARD and REGISTERED TORECV arrive on the receiving connection; replies on the sending one. */
  receives(data: Bytes, deadlineMs?: number): Promise<void> {
    return (startsWith(data, "FORWARD ") || startsWith(data, "REGISTERED TORECV") ? this.onReceiver : this.onSender).receives(data, deadlineMs);
  }

  /** Drops both connections, as a crashed client would. */
  disconnect(): void {
    this.onSender.close();
    this.onReceiver.close();
  }
}

export type Stage = {
  readonly mode: Mode;
  readonly port: number;
  /** A raw connection that registers nothing by itself. */
  connect(label?: string): Promise<Peer>;
  /** Connects and registers one more user in the current mode. */
  join(name: string): Promise<User>;
};

export type Scenario = {
  readonly name: string;
  /** Users registered before the transcript starts. */
  readonly cast: readonly string[];
  readonly limits?: Partial<LimitValues>;
  /** Only for some modes, when a rule is about connections themselves. */
  readonly modes?: readonly Mode[];
  run(users: Record<string, User>, stage: Stage): Promise<void>;
};

export function scenario(name: string, cast: readonly string[], run: Scenario["run"], extra: Partial<Scenario> = {}): Scenario {
  return { name, cast, run, ...extra };
}

function startsWith(data: Bytes, prefix: string): boolean {
  return show(bytes(data).subarray(0, prefix.length)) === JSON.stringify(prefix);
}

async function register(peer: Peer, role: "TOSEND" | "TORECV", name: string): Promise<void> {
  peer.send(`REGISTER ${role} ${name}\n\n`);
  await peer.receives(`REGISTERED ${role} ${name}\n\n`);
}

export function runScenarios(target: Target, scenarios: readonly Scenario[]): void {
  for (const mode of target.modes ?? modes) {
    describe(`${target.name}, ${mode}`, () => {
      const peers: Peer[] = [];
      let stop: (() => Promise<void>) | undefined;
      afterEach(async () => {
        for (const peer of peers.splice(0)) peer.close();
        await stop?.();
        stop = undefined;
      });

      for (const each of scenarios) {
        if (each.modes && !each.modes.includes(mode)) continue;
        test(each.name, async () => {
          const server = await target.start(each.limits ?? {});
          stop = () => server.stop();
          const connect = async (label = "peer") => {
            const peer = server.webSocket === undefined ? await Peer.connect(server.port, label, undefined, server.ca) : await Peer.connectWebSocket(server.webSocket, label, {}, server.ca);
            peers.push(peer);
            return peer;
          };
          const join = async (name: string) => {
            const sender = await connect(`${name}(send)`);
            const receiver = mode === "two-connection" ? await connect(`${name}(recv)`) : sender;
            await register(sender, "TOSEND", name);
            await register(receiver, "TORECV", name);
            return new User(name, sender, receiver);
          };
          const users: Record<string, User> = {};
          for (const name of each.cast) users[name] = await join(name);
          await each.run(users, { mode, port: server.port, connect, join });
          // Nothing may have arrived that the transcript did not expect.
          for (const peer of peers) {
            if (peer.unread.length > 0) throw new Error(`${peer.label} has unexpected bytes ${show(peer.unread)}`);
          }
        });
      }
    });
  }
}
