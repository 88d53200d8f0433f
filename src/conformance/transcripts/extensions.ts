// PROTOCOL.md §7 and docs/protocol.md D49-D53: extensions only for a client
// that asks, as transcripts. (Every other transcript is the proof that one
// that does not ask sees no change.)

import { contract, decision } from "../transcript.ts";

/** §7 leaves the grant's wording and its limits to the server; parley's exact bytes are D49. */
const grant = { Extensions: "any-value", "Max-Body-Bytes": "optional" } as const;

/** §7 gives a Reason's words only as examples; parley's are D50. */
const reason = { Reason: "any-value" } as const;

/** USERS <n> and its body, the names one per line (docs/protocol.md D51). */
function users(...names: readonly unknown[]): string {
  const list = names.map((name) => `${String(name)}\n`).join("");
  return `USERS ${names.length}\nContent-length: ${list.length}\n\n${list}`;
}

export const extensions = [
  contract("§7", { id: "v2.reasons", title: "grants the reasons extension it was asked for, tells the body limit, and gives ERROR 102 its reason", cast: ["bob"] }, async ({ bob }, stage) => {
    const carol = stage.name("carol");
    const sender = await stage.connect("carol(send)");
    const receiver = stage.mode === "two-connection" ? await stage.connect("carol(recv)") : sender;
    sender.send(`REGISTER TOSEND ${carol}\nExtensions: Reasons, presence, no-such-thing\n\n`);
    await sender.receives(`REGISTERED TOSEND ${carol}\nExtensions: reasons, presence\nMax-Body-Bytes: 65536\n\n`, grant);
    receiver.send(`REGISTER TORECV ${carol}\n\n`);
    // Single-connection: the connection asked, so this answer carries the fields too.
    if (stage.mode === "two-connection") await receiver.receives(`REGISTERED TORECV ${carol}\n\n`);
    else await receiver.receives(`REGISTERED TORECV ${carol}\nExtensions: reasons, presence\nMax-Body-Bytes: 65536\n\n`, grant);
    sender.send(`SEND ${stage.name("nobody")}\nContent-length: 1\n\nx`);
    await sender.receives("ERROR 102 Unable to send\nReason: offline\n\n", reason);
    sender.send(`SEND ${bob}\nContent-length: 2\n\nhi`);
    await bob!.receives(`FORWARD ${carol}\nContent-length: 2\n\nhi`);
    bob!.send("ERROR 103 Header incomplete\n\n");
    await sender.receives("ERROR 102 Unable to send\nReason: refused\n\n", reason);
    // bob asked for nothing: his replies are as in version 1.
    bob!.send(`SEND ${stage.name("nobody")}\nContent-length: 1\n\nx`);
    await bob!.receives("ERROR 102 Unable to send\n\n");
  }),

  decision("D49", { id: "v2.empty-grant", title: "answers an empty grant when nothing asked for is known", cast: ["bob"], extensions: true }, async (_users, stage) => {
    const dave = await stage.connect("dave");
    dave.send(`REGISTER TOSEND ${stage.name("dave")}\nExtensions: teleport\n\n`);
    await dave.receives(`REGISTERED TOSEND ${stage.name("dave")}\nExtensions:\nMax-Body-Bytes: 65536\n\n`);
  }),

  decision(
    "D52",
    { id: "presence.notices", title: "tells a receiving connection that asked for presence who is online, then who arrives and who leaves", cast: ["bob"], extensions: true },
    async ({ bob }, stage) => {
      const carol = stage.name("carol");
      const sender = await stage.connect("carol(send)");
      const receiver = stage.mode === "two-connection" ? await stage.connect("carol(recv)") : sender;
      sender.send(`REGISTER TOSEND ${carol}\n\n`);
      await sender.receives(`REGISTERED TOSEND ${carol}\n\n`);
      receiver.send(`REGISTER TORECV ${carol}\nExtensions: presence\n\n`);
      await receiver.receives(`REGISTERED TORECV ${carol}\nExtensions: presence\nMax-Body-Bytes: 65536\n\n`);
      receiver.send("WHO\n\n");
      await receiver.receives(users(bob, carol));
      const dave = await stage.join("Dave");
      await receiver.receives(`ONLINE ${dave}\n\n`);
      // The list names each in the spelling that registered, sorted regardless of case.
      receiver.send("WHO\n\n");
      await receiver.receives(users(bob, carol, dave));
      dave.disconnect();
      await receiver.receives(`OFFLINE ${dave}\n\n`);
    },
  ),

  decision("D51", { id: "presence.who-in-order", title: "answers WHO on a sending connection in SEND order, and sends it no notices", cast: ["bob"], extensions: true }, async ({ bob }, stage) => {
    const erin = stage.name("erin");
    const sender = await stage.connect("erin(send)");
    const receiver = stage.mode === "two-connection" ? await stage.connect("erin(recv)") : sender;
    receiver.send(`REGISTER TORECV ${erin}\n\n`);
    await receiver.receives(`REGISTERED TORECV ${erin}\n\n`);
    sender.send(`REGISTER TOSEND ${erin}\nExtensions: presence\n\n`);
    await sender.receives(`REGISTERED TOSEND ${erin}\nExtensions: presence\nMax-Body-Bytes: 65536\n\n`);
    // The WHO waits behind the SEND before it, whose answer waits for bob.
    sender.send(`SEND ${bob}\nContent-length: 2\n\nhi`);
    sender.send("WHO\n\n");
    await bob!.receives(`FORWARD ${erin}\nContent-length: 2\n\nhi`);
    bob!.send(`RECEIVED ${erin}\n\n`);
    await sender.receives(`SENT ${bob}\n\n${users(bob, erin)}`);
    if (stage.mode === "two-connection") {
      // Only a receiving connection that asked is told: this one asked on its sending connection.
      const frank = await stage.join("frank");
      frank.disconnect();
      sender.send(`SEND ${bob}\nContent-length: 3\n\nbye`);
      await bob!.receives(`FORWARD ${erin}\nContent-length: 3\n\nbye`);
      bob!.send(`RECEIVED ${erin}\n\n`);
      await sender.receives(`SENT ${bob}\n\n`);
    }
  }),

  decision("D51", { id: "presence.not-asked", title: "WHO from a connection that did not ask for presence is an unknown verb, as in version 1", cast: [], extensions: true }, async (_users, stage) => {
    const line = await stage.connect("gina");
    line.send(`REGISTER TOSEND ${stage.name("gina")}\nExtensions: reasons\n\n`);
    await line.receives(`REGISTERED TOSEND ${stage.name("gina")}\nExtensions: reasons\nMax-Body-Bytes: 65536\n\n`);
    line.send("WHO\n\n");
    await line.receives("ERROR 103 Header incomplete\n\n");
    await line.closes();
  }),
];
