// docs/protocol.md §7, D49-D50: extensions only for a client that asks, as
// transcripts. (Every other transcript is the proof that one that does not ask sees no change.)

import { scenario } from "./runner.ts";

export const extensions = [
  scenario("grants the reasons extension it was asked for, tells the body limit, and gives ERROR 102 its reason", ["bob"], async ({ bob }, stage) => {
    const sender = await stage.connect("carol(send)");
    const receiver = stage.mode === "two-connection" ? await stage.connect("carol(recv)") : sender;
    sender.send("REGISTER TOSEND carol\nExtensions: Reasons, presence, no-such-thing\n\n");
    await sender.receives("REGISTERED TOSEND carol\nExtensions: reasons\nMax-Body-Bytes: 65536\n\n");
    receiver.send("REGISTER TORECV carol\n\n");
    // Single-connection: the connection asked, so this answer carries the fields too.
    await receiver.receives(stage.mode === "two-connection" ? "REGISTERED TORECV carol\n\n" : "REGISTERED TORECV carol\nExtensions: reasons\nMax-Body-Bytes: 65536\n\n");
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
];
