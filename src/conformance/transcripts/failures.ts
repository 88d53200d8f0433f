// PROTOCOL.md §3-4: what happens when a recipient goes away, stays silent or
// sends garbage, as transcripts.

import { contract, decision } from "../transcript.ts";

export const failures = [
  contract("§4", { id: "failure.recipient-leaves", title: "answers ERROR 102 when the recipient disconnects mid-transaction, and frees its name", cast: ["alice", "bob"] }, async ({ alice, bob }, stage) => {
    alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    bob!.disconnect();
    await alice!.receives("ERROR 102 Unable to send\n\n");
    const again = await stage.join("bob");
    alice!.send(`SEND ${again}\nContent-length: 1\n\ny`);
    await again.receives(`FORWARD ${alice}\nContent-length: 1\n\ny`);
    again.send(`RECEIVED ${alice}\n\n`);
    await alice!.receives(`SENT ${again}\n\n`);
  }),

  contract(
    "§4",
    { id: "failure.ack-deadline", title: "answers ERROR 102 when the recipient misses the ack deadline, and closes it as dead", cast: ["alice", "bob"], limits: { ackTimeoutMs: 150 } },
    async ({ alice, bob }) => {
      alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
      await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
      await alice!.receives("ERROR 102 Unable to send\n\n");
      await bob!.onReceiver.closes();
      await bob!.onSender.closes();
    },
  ),

  contract(
    "§1",
    { id: "failure.full-queue", title: "answers ERROR 102 at once when the recipient has too many unanswered FORWARDs", cast: ["alice", "bob"], limits: { maxPendingForwards: 2 }, oneNode: true },
    async ({ alice, bob }) => {
      alice!.send(`SEND ${bob}\nContent-length: 1\n\naSEND ${bob}\nContent-length: 1\n\nbSEND ${bob}\nContent-length: 1\n\nc`);
      await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\naFORWARD ${alice}\nContent-length: 1\n\nb`);
      bob!.send(`RECEIVED ${alice}\n\nRECEIVED ${alice}\n\n`);
      await alice!.receives(`SENT ${bob}\n\nSENT ${bob}\n\nERROR 102 Unable to send\n\n`);
    },
  ),

  contract("§4", { id: "failure.no-length", title: "answers ERROR 103 and closes on a SEND without Content-length, ending the user", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    alice!.send(`SEND ${bob}\n\n`);
    await alice!.onSender.receives("ERROR 103 Header incomplete\n\n");
    await alice!.onSender.closes();
    await alice!.onReceiver.closes();
    bob!.send(`SEND ${alice}\nContent-length: 1\n\nx`);
    await bob!.receives("ERROR 102 Unable to send\n\n");
  }),

  contract("§4", { id: "failure.bad-length", title: "answers ERROR 103 and closes on a Content-length that is not a number", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    alice!.send(`SEND ${bob}\nContent-length: five\n\nhello`);
    await alice!.onSender.receives("ERROR 103 Header incomplete\n\n");
    await alice!.onSender.closes();
  }),

  decision("D18", { id: "failure.in-flight-before-103", title: "answers SENDs in flight with ERROR 102 before the ERROR 103 that closes", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    alice!.onSender.send("BOGUS\n\n");
    await alice!.onSender.receives("ERROR 102 Unable to send\n\nERROR 103 Header incomplete\n\n");
    await alice!.onSender.closes();
    bob!.send(`RECEIVED ${alice}\n\n`);
  }),

  decision("D17", { id: "failure.sender-leaves", title: "ends the sender's transactions quietly when the sender disconnects; the recipient is unaffected", cast: ["alice", "bob", "carol"] }, async ({ alice, bob, carol }) => {
    alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    alice!.disconnect();
    bob!.send(`RECEIVED ${alice}\n\n`);
    carol!.send(`SEND ${bob}\nContent-length: 1\n\ny`);
    await bob!.receives(`FORWARD ${carol}\nContent-length: 1\n\ny`);
    bob!.send(`RECEIVED ${carol}\n\n`);
    await carol!.receives(`SENT ${bob}\n\n`);
  }),

  decision(
    "D19",
    { id: "failure.sender-half-closes", title: "still answers a sender that half-closed after its SENDs, then closes it (D19)", cast: ["alice", "bob"], modes: ["two-connection"] },
    async ({ alice, bob }) => {
      alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
      await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
      alice!.onSender.shutdown();
      bob!.send(`RECEIVED ${alice}\n\n`);
      await alice!.receives(`SENT ${bob}\n\n`);
      await alice!.onSender.closes();
      await alice!.onReceiver.closes();
    },
  ),

  decision("D19", { id: "failure.receiver-half-closes", title: "closes a receiving connection that half-closes, failing what it owes (D19)", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    bob!.onReceiver.shutdown();
    await alice!.receives("ERROR 102 Unable to send\n\n");
    await bob!.onReceiver.closes();
  }),
];
