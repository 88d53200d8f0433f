// Runs the protocol transcripts of src/conformance (the ones `parley
// conformance` runs against other servers) against any target: an
// in-process server, a spawned binary, N cluster nodes (users spread over
// them, each user's connections on one node). Every transcript runs with each
// user on two connections and again on one connection, with its names as
// written, and parley must write exactly the bytes it expects.

import { afterEach, describe, test } from "bun:test";
import { join, type Line, type Mode, type Transcript, type User } from "../../src/conformance/transcript.ts";
import type { LimitValues } from "../../src/protocol/limits.ts";
import { Peer, show } from "../support/peer.ts";

export const modes: readonly Mode[] = ["two-connection", "single-connection"];

/** Something that serves the protocol on a port; with `ca`, over TLS trusting that certificate. */
export type Target = {
  readonly name: string;
  /** Default: every mode. */
  readonly modes?: readonly Mode[];
  /** With `webSocket`, a URL: every connection is a WebSocket there instead of TCP to `port` (wss:// trusting `ca`). */
  start(limits: Partial<LimitValues>): Promise<{
    readonly port: number;
    /** Several nodes: each user, in order of first appearance, connects to the next one. */
    readonly ports?: readonly number[];
    readonly ca?: string;
    readonly webSocket?: string;
    stop(): Promise<void>;
  }>;
};

/** The suite's raw client as a transcript's Line: exact bytes, whatever the contract would let another server vary. */
function line(peer: Peer): Line {
  return {
    label: peer.label,
    send: (data) => peer.send(data),
    receives: (expected) => peer.receives(expected),
    closes: () => peer.closes(),
    close: () => peer.close(),
    shutdown: () => peer.shutdown(),
  };
}

export function runScenarios(target: Target, transcripts: readonly Transcript[]): void {
  for (const mode of target.modes ?? modes) {
    describe(`${target.name}, ${mode}`, () => {
      const peers: Peer[] = [];
      let stop: (() => Promise<void>) | undefined;
      afterEach(async () => {
        for (const peer of peers.splice(0)) peer.close();
        await stop?.();
        stop = undefined;
      });

      for (const each of transcripts) {
        if (each.modes && !each.modes.includes(mode)) continue;
        test(each.title, async () => {
          const server = await target.start(each.limits ?? {});
          stop = () => server.stop();
          // A connection's user is its label up to "(": both of a user's connections go to that user's node.
          const nodes = new Map<string, number>();
          const portFor = (label: string): number => {
            const ports = server.ports === undefined || each.oneNode ? [server.port] : server.ports;
            const user = label.split("(")[0]!;
            if (!nodes.has(user)) nodes.set(user, nodes.size % ports.length);
            return ports[nodes.get(user)!]!;
          };
          const connect = async (label = "peer") => {
            const peer = server.webSocket === undefined ? await Peer.connect(portFor(label), label, undefined, server.ca) : await Peer.connectWebSocket(server.webSocket, label, {}, server.ca);
            peers.push(peer);
            return line(peer);
          };
          const name = (base: string) => base;
          const stage = { mode, name, connect, join: (base: string) => join(base, base, mode, connect) };
          const users: Record<string, User> = {};
          for (const base of each.cast) users[base] = await stage.join(base);
          await each.run(users, stage);
          // Nothing may have arrived that the transcript did not expect.
          for (const peer of peers) {
            if (peer.unread.length > 0) throw new Error(`${peer.label} has unexpected bytes ${show(peer.unread)}`);
          }
        });
      }
    });
  }
}
