// docs/protocol.md §7, D49-D53: extensions only for a client that asks, as
// transcripts. (Every other transcript is the proof that one that does not ask sees no change.)

import { scenario } from "./runner.ts";

export const extensions = [
  scenario("grants the reasons extension it was asked for, tells the body limit, and gives ERROR 102 its reason", ["bob"], async ({ bob }, stage) => {
    const sender = await stage.connect("carol(send)");
    const receiver = stage.mode === "two-connection" ? await stage.connect("carol(recv)") : sender;
    sender.send("REGISTER TOSEND carol\nExtensions: Reasons, presence, no-such-thing\n\n");
    await sender.receives("REGISTERED TOSEND carol\nExtensions: reasons, presence\nMax-Body-Bytes: 65536\n\n");
    receiver.send("REGISTER TORECV carol\n\n");
    // Single-connection: the connection asked, so this answer carries the fields too.
    await receiver.receives(stage.mode === "two-connection" ? "REGISTERED TORECV carol\n\n" : "REGISTERED TORECV carol\nExtensions: reasons, presence\nMax-Body-Bytes: 65536\n\n");
    sender.send("SEND nobody\nContent-length: 1\n\nx");
    await sender.receives("ERROR 102 Unable to send\nReason: offline\n\n");
    sender.send("SEND bob\nContent-length: 2\n\nhi");
    await bob!.receives("FORWARD carol\nContent-length: 2\n\nhi");
    bob!.send("ERROR 103 Header incomplete\n\n");
    await sender.receives("ERROR 102 Unable to send\nReason: refused\n\n");
    // bob asked for nothing: his replies are as in version 1.
    bob!.send("SEND nobody\nContent-length: 1\n\nx");
    await bob!.receives("ERROR 102 Unable to send\n\n");
  }),

  scenario("answers an empty grant when nothing asked for is known", ["bob"], async (_users, stage) => {
    const dave = await stage.connect("dave");
    dave.send("REGISTER TOSEND dave\nExtensions: teleport\n\n");
    await dave.receives("REGISTERED TOSEND dave\nExtensions:\nMax-Body-Bytes: 65536\n\n");
  }),

  scenario("tells a receiving connection that asked for presence who is online, then who arrives and who leaves", ["bob"], async (_users, stage) => {
    const sender = await stage.connect("carol(send)");
    const receiver = stage.mode === "two-connection" ? await stage.connect("carol(recv)") : sender;
    sender.send("REGISTER TOSEND carol\n\n");
    await sender.receives("REGISTERED TOSEND carol\n\n");
    receiver.send("REGISTER TORECV carol\nExtensions: presence\n\n");
    await receiver.receives("REGISTERED TORECV carol\nExtensions: presence\nMax-Body-Bytes: 65536\n\n");
    receiver.send("WHO\n\n");
    await receiver.receives("USERS 2\nContent-length: 10\n\nbob\ncarol\n");
    const dave = await stage.join("Dave");
    await receiver.receives("ONLINE Dave\n\n");
    // The list names each in the spelling that registered, sorted regardless of case.
    receiver.send("wHo\n\n".replace("wHo", "WHO"));
    await receiver.receives("USERS 3\nContent-length: 15\n\nbob\ncarol\nDave\n");
    dave.disconnect();
    await receiver.receives("OFFLINE Dave\n\n");
  }),

  scenario("answers WHO on a sending connection in SEND order, and sends it no notices", ["bob"], async ({ bob }, stage) => {
    const sender = await stage.connect("erin(send)");
    const receiver = stage.mode === "two-connection" ? await stage.connect("erin(recv)") : sender;
    receiver.send("REGISTER TORECV erin\n\n");
    await receiver.receives("REGISTERED TORECV erin\n\n");
    sender.send("REGISTER TOSEND erin\nExtensions: presence\n\n");
    await sender.receives("REGISTERED TOSEND erin\nExtensions: presence\nMax-Body-Bytes: 65536\n\n");
    // The WHO waits behind the SEND before it, whose answer waits for bob.
    sender.send("SEND bob\nContent-length: 2\n\nhi");
    sender.send("WHO\n\n");
    await bob!.receives("FORWARD erin\nContent-length: 2\n\nhi");
    bob!.send("RECEIVED erin\n\n");
    await sender.receives("SENT bob\n\nUSERS 2\nContent-length: 9\n\nbob\nerin\n");
    if (stage.mode === "two-connection") {
      // Only a receiving connection that asked is told: this one asked on its sending connection.
      const frank = await stage.join("frank");
      frank.disconnect();
      sender.send("WHO\n\n");
      await sender.receives("USERS 2\nContent-length: 9\n\nbob\nerin\n");
    }
  }),

  scenario("WHO from a connection that did not ask for presence is an unknown verb, as in version 1", [], async (_users, stage) => {
    const peer = await stage.connect("gina");
    peer.send("REGISTER TOSEND gina\nExtensions: reasons\n\n");
    await peer.receives("REGISTERED TOSEND gina\nExtensions: reasons\nMax-Body-Bytes: 65536\n\n");
    peer.send("WHO\n\n");
    await peer.receives("ERROR 103 Header incomplete\n\n");
    await peer.closes();
  }),
];
