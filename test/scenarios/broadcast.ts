// PROTOCOL.md §4 SEND ALL, as transcripts.

import { scenario } from "./runner.ts";

export const broadcast = [
  scenario("broadcasts to everyone but the sender and answers SENT ALL once all answered", ["alice", "bob", "carol"], async ({ alice, bob, carol }) => {
    alice!.send("SEND ALL\nContent-length: 2\n\nhi");
    await bob!.receives("FORWARD alice\nContent-length: 2\n\nhi");
    await carol!.receives("FORWARD alice\nContent-length: 2\n\nhi");
    bob!.send("RECEIVED alice\n\n");
    carol!.send("RECEIVED alice\n\n");
    await alice!.receives("SENT ALL\n\n");
  }),

  scenario("answers ERROR 102 to a broadcast if any one recipient fails", ["alice", "bob", "carol"], async ({ alice, bob, carol }) => {
    alice!.send("SEND ALL\nContent-length: 2\n\nhi");
    await bob!.receives("FORWARD alice\nContent-length: 2\n\nhi");
    await carol!.receives("FORWARD alice\nContent-length: 2\n\nhi");
    bob!.send("RECEIVED alice\n\n");
    carol!.send("ERROR 103 Header incomplete\n\n");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  scenario("answers ERROR 102 to a broadcast when nobody else is registered", ["alice"], async ({ alice }) => {
    alice!.send("SEND ALL\nContent-length: 2\n\nhi");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  scenario("leaves half-registered users out of a broadcast", ["alice", "bob"], async ({ alice, bob }, stage) => {
    const half = await stage.connect("carol(half)");
    half.send("REGISTER TOSEND carol\n\n");
    await half.receives("REGISTERED TOSEND carol\n\n");
    alice!.send("SEND ALL\nContent-length: 1\n\nx");
    await bob!.receives("FORWARD alice\nContent-length: 1\n\nx");
    bob!.send("RECEIVED alice\n\n");
    await alice!.receives("SENT ALL\n\n");
  }),

  scenario("fails a broadcast whose recipient disconnects before answering", ["alice", "bob", "carol"], async ({ alice, bob, carol }) => {
    alice!.send("SEND ALL\nContent-length: 1\n\nx");
    await bob!.receives("FORWARD alice\nContent-length: 1\n\nx");
    await carol!.receives("FORWARD alice\nContent-length: 1\n\nx");
    bob!.send("RECEIVED alice\n\n");
    carol!.disconnect();
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),
];
