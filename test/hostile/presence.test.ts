// Presence among strangers (docs/protocol.md D51-D53): a watcher that stops
// reading while hundreds of users come and go costs the honest group nothing,
// and a client that follows the rules (apply notices in order, ask WHO again
// after RESYNC) ends with the truth once it reads again.

import { describe, test } from "bun:test";
import { attackerAddress } from "../support/attackers.ts";
import { openArena } from "../support/arena.ts";
import { Changes } from "../support/changes.ts";
import { Peer, registered, type ServerMessage } from "../support/peer.ts";

const granted = "Extensions: presence\nMax-Body-Bytes: 65536\n";

describe("hostile presence", () => {
  test("a watcher that stops reading while 240 users arrive and leave converges to the truth once it reads, and the group is unharmed", async () => {
    const honest = ["alice", "bob", "carol", "dave"];
    await using arena = await openArena({ limits: { maxPresencePending: 16 }, names: honest });
    await arena.group.progress(20);
    const watcher = await Peer.connect(arena.port, "watcher", attackerAddress());
    watcher.send("REGISTER TOSEND watcher\nExtensions: presence\n\nREGISTER TORECV watcher\n\nWHO\n\n");
    await watcher.receives(`REGISTERED TOSEND watcher\n${granted}\nREGISTERED TORECV watcher\n${granted}\n`);

    // The watcher's view, kept as a client must (D52): the last USERS, then each notice in order; RESYNC asks again.
    const view = new Set<string>();
    const changes = new Changes();
    let resyncs = 0;
    watcher.listen({
      message(message: ServerMessage) {
        if (message.verb === "USERS") {
          view.clear();
          for (const name of new TextDecoder().decode(message.body).split("\n")) if (name !== "") view.add(name);
        } else if (message.verb === "ONLINE") view.add(message.arg);
        else if (message.verb === "OFFLINE") view.delete(message.arg);
        else if (message.verb === "RESYNC") {
          resyncs++;
          watcher.send("WHO\n\n");
        } else throw new Error(`the watcher got ${message.verb} ${message.arg}`);
        changes.changed();
      },
      garbled: (detail) => {
        throw new Error(`garbled: ${detail}`);
      },
      closed: () => changes.changed(),
    });
    const truth = () => [...honest, "watcher"].sort().join(",");
    await changes.until(() => [...view].sort().join(",") === truth(), 3000, () => `first view ${[...view]}`);

    watcher.pause();
    // Churn from several addresses, under the per-address name cap: 24 rounds of 10 arriving together, then leaving.
    for (let round = 0; round < 24; round++) {
      const from = attackerAddress();
      const crowd = await Promise.all(Array.from({ length: 10 }, (_, i) => registered(arena.port, `churn${round}x${i}`, `churn${round}x${i}`, from)));
      for (const peer of crowd) peer.close();
    }
    await arena.group.progress(50);
    watcher.resume();
    await changes.until(() => [...view].sort().join(",") === truth() && !watcher.isClosed, 5000, () => `view ${[...view].sort()} after ${resyncs} RESYNC(s)`);
    console.log(`presence: the watcher converged after ${resyncs} RESYNC(s)`);
    watcher.close();
    await arena.finish();
  }, 30_000);
});
