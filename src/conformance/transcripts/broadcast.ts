// PROTOCOL.md §4 SEND ALL, as transcripts. They assume nobody but the cast
// is online: a broadcast goes to everyone.

import { contract } from "../transcript.ts";

export const broadcast = [
  contract("§4", { id: "broadcast.all", title: "broadcasts to everyone but the sender and answers SENT ALL once all answered", cast: ["alice", "bob", "carol"] }, async ({ alice, bob, carol }) => {
    alice!.send("SEND ALL\nContent-length: 2\n\nhi");
    await bob!.receives(`FORWARD ${alice}\nContent-length: 2\n\nhi`);
    await carol!.receives(`FORWARD ${alice}\nContent-length: 2\n\nhi`);
    bob!.send(`RECEIVED ${alice}\n\n`);
    carol!.send(`RECEIVED ${alice}\n\n`);
    await alice!.receives("SENT ALL\n\n");
  }),

  contract("§4", { id: "broadcast.one-fails", title: "answers ERROR 102 to a broadcast if any one recipient fails", cast: ["alice", "bob", "carol"] }, async ({ alice, bob, carol }) => {
    alice!.send("SEND ALL\nContent-length: 2\n\nhi");
    await bob!.receives(`FORWARD ${alice}\nContent-length: 2\n\nhi`);
    await carol!.receives(`FORWARD ${alice}\nContent-length: 2\n\nhi`);
    bob!.send(`RECEIVED ${alice}\n\n`);
    carol!.send("ERROR 103 Header incomplete\n\n");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  contract("§4", { id: "broadcast.nobody", title: "answers ERROR 102 to a broadcast when nobody else is registered", cast: ["alice"] }, async ({ alice }) => {
    alice!.send("SEND ALL\nContent-length: 2\n\nhi");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  contract("§4", { id: "broadcast.half-registered", title: "leaves half-registered users out of a broadcast", cast: ["alice", "bob"] }, async ({ alice, bob }, stage) => {
    const half = await stage.connect("carol(half)");
    half.send(`REGISTER TOSEND ${stage.name("carol")}\n\n`);
    await half.receives(`REGISTERED TOSEND ${stage.name("carol")}\n\n`);
    alice!.send("SEND ALL\nContent-length: 1\n\nx");
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    bob!.send(`RECEIVED ${alice}\n\n`);
    await alice!.receives("SENT ALL\n\n");
  }),

  contract("§4", { id: "broadcast.recipient-leaves", title: "fails a broadcast whose recipient disconnects before answering", cast: ["alice", "bob", "carol"] }, async ({ alice, bob, carol }) => {
    alice!.send("SEND ALL\nContent-length: 1\n\nx");
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    await carol!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    bob!.send(`RECEIVED ${alice}\n\n`);
    carol!.disconnect();
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),
];
