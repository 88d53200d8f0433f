// PROTOCOL.md §4 unicast delivery, as transcripts.

import { scenario } from "./runner.ts";

export const delivery = [
  scenario("delivers a message and answers SENT only after RECEIVED (§5 example)", ["alice", "bob"], async ({ alice, bob }) => {
    alice!.send("SEND bob\nContent-length: 5\n\nhello");
    await bob!.receives("FORWARD alice\nContent-length: 5\n\nhello");
    bob!.send("RECEIVED alice\n\n");
    await alice!.receives("SENT bob\n\n");
  }),

  scenario("lets a user send to themselves", ["alice"], async ({ alice }) => {
    alice!.send("SEND alice\nContent-length: 2\n\nhi");
    await alice!.receives("FORWARD alice\nContent-length: 2\n\nhi");
    alice!.send("RECEIVED alice\n\n");
    await alice!.receives("SENT alice\n\n");
  }),

  scenario("delivers a body containing \\n\\n and verb-like bytes untouched", ["alice", "bob"], async ({ alice, bob }) => {
    const body = "x\n\nSEND bob\nContent-length: 3\n\nRECEIVED alice\n\n\r\n";
    alice!.send(`SEND bob\nContent-length: ${body.length}\n\n${body}`);
    await bob!.receives(`FORWARD alice\nContent-length: ${body.length}\n\n${body}`);
    bob!.send("RECEIVED alice\n\n");
    await alice!.receives("SENT bob\n\n");
  }),

  scenario("delivers every byte value and multibyte UTF-8 exactly", ["alice", "bob"], async ({ alice, bob }) => {
    const body = new Uint8Array([...Array(256).keys(), ...new TextEncoder().encode("héllo, 世界 🎉")]);
    const head = (verb: string) => new TextEncoder().encode(`${verb}\nContent-length: ${body.length}\n\n`);
    alice!.send(new Uint8Array([...head("SEND bob"), ...body]));
    await bob!.receives(new Uint8Array([...head("FORWARD alice"), ...body]));
    bob!.send("RECEIVED alice\n\n");
    await alice!.receives("SENT bob\n\n");
  }),

  scenario("delivers an empty body (Content-length: 0)", ["alice", "bob"], async ({ alice, bob }) => {
    alice!.send("SEND bob\nContent-length: 0\n\n");
    await bob!.receives("FORWARD alice\nContent-length: 0\n\n");
    bob!.send("RECEIVED alice\n\n");
    await alice!.receives("SENT bob\n\n");
  }),

  scenario("accepts CRLF, any header case, extra fields and whitespace-only end lines", ["alice", "bob"], async ({ alice, bob }) => {
    alice!.onSender.send("\r\nSEND bob  \r\nX-Client: test\r\ncontent-LENGTH:   3\r\n \t\r\nabc");
    await bob!.receives("FORWARD alice\nContent-length: 3\n\nabc");
    bob!.send("RECEIVED alice\r\n\r\n");
    await alice!.receives("SENT bob\n\n");
  }),

  scenario("answers ERROR 102 at once for an unknown recipient", ["alice"], async ({ alice }) => {
    alice!.send("SEND nobody\nContent-length: 1\n\nx");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  scenario("answers ERROR 102 for a recipient name that breaks the username rule", ["alice"], async ({ alice }) => {
    alice!.send("SEND bob!\nContent-length: 1\n\nx");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  scenario("answers ERROR 102 for a recipient who holds only one role", ["alice"], async ({ alice }, stage) => {
    const half = await stage.connect("bob(half)");
    half.send("REGISTER TORECV bob\n\n");
    await half.receives("REGISTERED TORECV bob\n\n");
    alice!.send("SEND bob\nContent-length: 1\n\nx");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  scenario("answers ERROR 102 when the recipient answers ERROR 103", ["alice", "bob"], async ({ alice, bob }) => {
    alice!.send("SEND bob\nContent-length: 1\n\nx");
    await bob!.receives("FORWARD alice\nContent-length: 1\n\nx");
    bob!.send("ERROR 103 Header Incomplete\n\n");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  scenario("counts a RECEIVED with the wrong name as a failed delivery", ["alice", "bob"], async ({ alice, bob }) => {
    alice!.send("SEND bob\nContent-length: 1\n\nx");
    await bob!.receives("FORWARD alice\nContent-length: 1\n\nx");
    bob!.send("RECEIVED mallory\n\n");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  scenario("ignores an answer with nothing outstanding", ["alice", "bob"], async ({ alice, bob }) => {
    bob!.send("RECEIVED alice\n\nERROR 103 Header incomplete\n\n");
    alice!.send("SEND bob\nContent-length: 1\n\nx");
    await bob!.receives("FORWARD alice\nContent-length: 1\n\nx");
    bob!.send("RECEIVED alice\n\n");
    await alice!.receives("SENT bob\n\n");
  }),

  scenario("answers pipelined SENDs in SEND order even when answered out of order", ["alice", "bob", "carol"], async ({ alice, bob, carol }) => {
    alice!.send("SEND bob\nContent-length: 1\n\n1SEND carol\nContent-length: 1\n\n2SEND nobody\nContent-length: 1\n\n3SEND bob\nContent-length: 1\n\n4");
    await bob!.receives("FORWARD alice\nContent-length: 1\n\n1FORWARD alice\nContent-length: 1\n\n4");
    await carol!.receives("FORWARD alice\nContent-length: 1\n\n2");
    carol!.send("RECEIVED alice\n\n");
    bob!.send("RECEIVED alice\n\nERROR 103 Header incomplete\n\n");
    await alice!.receives("SENT bob\n\nSENT carol\n\nERROR 102 Unable to send\n\nERROR 102 Unable to send\n\n");
  }),

  scenario("answers each recipient's FORWARDs in the order they were written", ["alice", "bob", "carol"], async ({ alice, bob, carol }) => {
    alice!.send("SEND carol\nContent-length: 1\n\na");
    await carol!.receives("FORWARD alice\nContent-length: 1\n\na");
    bob!.send("SEND carol\nContent-length: 1\n\nb");
    await carol!.receives("FORWARD bob\nContent-length: 1\n\nb");
    carol!.send("RECEIVED alice\n\nRECEIVED bob\n\n");
    await alice!.receives("SENT carol\n\n");
    await bob!.receives("SENT carol\n\n");
  }),

  // docs/protocol.md D14: a registration may wait on the directory; what was
  // pipelined behind it is handled after it, in order, as if it were instant.
  scenario("handles a SEND pipelined behind the REGISTER that completes the user", ["bob"], async ({ bob }, stage) => {
    const sender = await stage.connect("carol(send)");
    const register = "REGISTER TOSEND carol\n\n";
    if (stage.mode === "two-connection") {
      const receiver = await stage.connect("carol(recv)");
      receiver.send("REGISTER TORECV carol\n\n");
      await receiver.receives("REGISTERED TORECV carol\n\n");
    } else {
      sender.send("REGISTER TORECV carol\n\n");
      await sender.receives("REGISTERED TORECV carol\n\n");
    }
    sender.send(`${register}SEND bob\nContent-length: 2\n\nhiSEND nobody\nContent-length: 0\n\n`);
    await sender.receives(`REGISTERED TOSEND carol\n\n`);
    await bob!.receives("FORWARD carol\nContent-length: 2\n\nhi");
    bob!.send("RECEIVED carol\n\n");
    await sender.receives("SENT bob\n\nERROR 102 Unable to send\n\n");
  }),

  scenario("answers a pipelined REGISTER, REGISTER, SEND on one connection in order", ["bob"], async ({ bob }, stage) => {
    const carol = await stage.connect("carol");
    carol.send("REGISTER TOSEND carol\n\nREGISTER TORECV carol\n\nSEND bob\nContent-length: 2\n\nhi");
    await carol.receives("REGISTERED TOSEND carol\n\nREGISTERED TORECV carol\n\n");
    await bob!.receives("FORWARD carol\nContent-length: 2\n\nhi");
    bob!.send("RECEIVED carol\n\n");
    await carol.receives("SENT bob\n\n");
  }),

  // docs/protocol.md §6: a client may spell a name in any case; the server
  // always names a user as they registered.
  scenario("takes names in any case and answers in the spelling that registered", ["Alice", "bob"], async ({ Alice, bob }) => {
    Alice!.send("SEND BOB\nContent-length: 2\n\nhi");
    await bob!.receives("FORWARD Alice\nContent-length: 2\n\nhi");
    bob!.send("RECEIVED alice\n\n");
    await Alice!.receives("SENT bob\n\n");
    Alice!.send("SEND all\nContent-length: 2\n\nyo");
    await bob!.receives("FORWARD Alice\nContent-length: 2\n\nyo");
    bob!.send("RECEIVED ALICE\n\n");
    await Alice!.receives("SENT ALL\n\n");
  }),
];
