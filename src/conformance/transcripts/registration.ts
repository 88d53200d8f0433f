// PROTOCOL.md §3 registration, as transcripts: the first two gate every
// other check of the kit (nothing else can be checked without them).

import { contract } from "../transcript.ts";

export const registration = [
  contract("§1", { id: "connect", title: "accepts a connection", cast: [] }, async (_users, stage) => {
    await stage.connect("probe");
  }),

  contract("§3", { id: "register.roles", title: "registers a user's two roles in either order, answering REGISTERED to each", cast: [] }, async (_users, stage) => {
    const [alice, bob] = [stage.name("alice"), stage.name("bob")];
    const aliceSends = await stage.connect("alice(send)");
    const aliceReceives = stage.mode === "two-connection" ? await stage.connect("alice(recv)") : aliceSends;
    aliceSends.send(`REGISTER TOSEND ${alice}\n\n`);
    await aliceSends.receives(`REGISTERED TOSEND ${alice}\n\n`);
    aliceReceives.send(`REGISTER TORECV ${alice}\n\n`);
    await aliceReceives.receives(`REGISTERED TORECV ${alice}\n\n`);
    const bobSends = await stage.connect("bob(send)");
    const bobReceives = stage.mode === "two-connection" ? await stage.connect("bob(recv)") : bobSends;
    bobReceives.send(`REGISTER TORECV ${bob}\n\n`);
    await bobReceives.receives(`REGISTERED TORECV ${bob}\n\n`);
    bobSends.send(`REGISTER TOSEND ${bob}\n\n`);
    await bobSends.receives(`REGISTERED TOSEND ${bob}\n\n`);
  }),

  contract("§3", { id: "register.malformed", title: "answers ERROR 100 to a name that breaks the username rule or is ALL, and stays open", cast: [] }, async (_users, stage) => {
    const line = await stage.connect("alice");
    for (const name of ["bob!", "ALL", "a".repeat(33)]) {
      line.send(`REGISTER TOSEND ${name}\n\n`);
      await line.receives("ERROR 100 Malformed username\n\n");
    }
    line.send(`REGISTER TOSEND ${stage.name("alice")}\n\n`);
    await line.receives(`REGISTERED TOSEND ${stage.name("alice")}\n\n`);
  }),

  contract("§3", { id: "register.first", title: "answers ERROR 101 to a SEND before registering, after reading its whole body", cast: ["bob"] }, async ({ bob }, stage) => {
    const line = await stage.connect("alice");
    // A body that would register someone if it were read as a message.
    const body = `REGISTER TOSEND ${stage.name("mallory")}\n\n`;
    line.send(`SEND ${bob}\nContent-length: ${body.length}\n\n${body}`);
    await line.receives("ERROR 101 No user registered\n\n");
    line.send(`REGISTER TOSEND ${stage.name("alice")}\n\n`);
    await line.receives(`REGISTERED TOSEND ${stage.name("alice")}\n\n`);
  }),

  contract("§3", { id: "register.half", title: "answers ERROR 101 to a SEND from a user who holds only one role", cast: ["bob"] }, async ({ bob }, stage) => {
    const line = await stage.connect("alice(send)");
    line.send(`REGISTER TOSEND ${stage.name("alice")}\n\n`);
    await line.receives(`REGISTERED TOSEND ${stage.name("alice")}\n\n`);
    line.send(`SEND ${bob}\nContent-length: 2\n\nhi`);
    await line.receives("ERROR 101 No user registered\n\n");
  }),

  contract("§3", { id: "register.taken", title: "answers ERROR 104 to a role another connection holds, and leaves the holder registered", cast: ["alice", "bob"] }, async ({ alice, bob }, stage) => {
    const thief = await stage.connect("alice(thief)");
    thief.send(`REGISTER TORECV ${alice}\n\n`);
    await thief.receives("ERROR 104 Username taken\n\n");
    bob!.send(`SEND ${alice}\nContent-length: 2\n\nhi`);
    await alice!.receives(`FORWARD ${bob}\nContent-length: 2\n\nhi`);
    alice!.send(`RECEIVED ${bob}\n\n`);
    await bob!.receives(`SENT ${alice}\n\n`);
  }),

  contract("§3", { id: "register.again", title: "answers REGISTERED again to the same role and name on the same connection", cast: ["alice"] }, async ({ alice }) => {
    alice!.send(`REGISTER TOSEND ${alice}\n\n`);
    await alice!.receives(`REGISTERED TOSEND ${alice}\n\n`);
  }),

  contract("§3", { id: "register.other-name", title: "answers ERROR 104 to a connection that holds a role and asks for one under another name", cast: [] }, async (_users, stage) => {
    const line = await stage.connect("alice");
    line.send(`REGISTER TOSEND ${stage.name("alice")}\n\n`);
    await line.receives(`REGISTERED TOSEND ${stage.name("alice")}\n\n`);
    line.send(`REGISTER TORECV ${stage.name("bob")}\n\n`);
    await line.receives("ERROR 104 Username taken\n\n");
  }),

  contract("§3", { id: "register.pipelined", title: "answers a pipelined REGISTER, REGISTER, SEND on one connection in order", cast: ["bob"] }, async ({ bob }, stage) => {
    const carol = stage.name("carol");
    const line = await stage.connect("carol");
    line.send(`REGISTER TOSEND ${carol}\n\nREGISTER TORECV ${carol}\n\nSEND ${bob}\nContent-length: 2\n\nhi`);
    await line.receives(`REGISTERED TOSEND ${carol}\n\nREGISTERED TORECV ${carol}\n\n`);
    await bob!.receives(`FORWARD ${carol}\nContent-length: 2\n\nhi`);
    bob!.send(`RECEIVED ${carol}\n\n`);
    await line.receives(`SENT ${bob}\n\n`);
  }),

  contract("§4", { id: "framing.unknown-verb", title: "answers ERROR 103 and closes on an unknown verb", cast: [] }, async (_users, stage) => {
    const line = await stage.connect("alice");
    line.send("HELLO server\n\n");
    await line.receives("ERROR 103 Header incomplete\n\n");
    await line.closes();
  }),
];
