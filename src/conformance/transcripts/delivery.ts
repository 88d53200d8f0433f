// PROTOCOL.md §1 and §4, unicast delivery, as transcripts.

import { contract, decision } from "../transcript.ts";

export const delivery = [
  contract(
    "§4",
    { id: "delivery.example", title: "delivers a message and answers SENT only after RECEIVED (§5 example)", cast: ["alice", "bob"], kitModes: ["two-connection", "single-connection"] },
    async ({ alice, bob }) => {
      alice!.send(`SEND ${bob}\nContent-length: 5\n\nhello`);
      await bob!.receives(`FORWARD ${alice}\nContent-length: 5\n\nhello`);
      bob!.send(`RECEIVED ${alice}\n\n`);
      await alice!.receives(`SENT ${bob}\n\n`);
    },
  ),

  contract("§4", { id: "delivery.self", title: "lets a user send to themselves", cast: ["alice"] }, async ({ alice }) => {
    alice!.send(`SEND ${alice}\nContent-length: 2\n\nhi`);
    await alice!.receives(`FORWARD ${alice}\nContent-length: 2\n\nhi`);
    alice!.send(`RECEIVED ${alice}\n\n`);
    await alice!.receives(`SENT ${alice}\n\n`);
  }),

  contract("§1", { id: "delivery.verb-like-body", title: "delivers a body containing \\n\\n and verb-like bytes untouched", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    const body = `x\n\nSEND ${bob}\nContent-length: 3\n\nRECEIVED ${alice}\n\n\r\n`;
    alice!.send(`SEND ${bob}\nContent-length: ${body.length}\n\n${body}`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: ${body.length}\n\n${body}`);
    bob!.send(`RECEIVED ${alice}\n\n`);
    await alice!.receives(`SENT ${bob}\n\n`);
  }),

  contract("§1", { id: "delivery.every-byte", title: "delivers every byte value and multibyte UTF-8 exactly", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    const body = new Uint8Array([...Array(256).keys(), ...new TextEncoder().encode("héllo, 世界 🎉")]);
    const head = (verb: string) => new TextEncoder().encode(`${verb}\nContent-length: ${body.length}\n\n`);
    alice!.send(new Uint8Array([...head(`SEND ${bob}`), ...body]));
    await bob!.receives(new Uint8Array([...head(`FORWARD ${alice}`), ...body]));
    bob!.send(`RECEIVED ${alice}\n\n`);
    await alice!.receives(`SENT ${bob}\n\n`);
  }),

  contract("§1", { id: "delivery.empty-body", title: "delivers an empty body (Content-length: 0)", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    alice!.send(`SEND ${bob}\nContent-length: 0\n\n`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 0\n\n`);
    bob!.send(`RECEIVED ${alice}\n\n`);
    await alice!.receives(`SENT ${bob}\n\n`);
  }),

  contract("§1", { id: "delivery.lenient-input", title: "accepts CRLF, any header case, extra fields and whitespace-only end lines", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    alice!.onSender.send(`\r\nSEND ${bob}  \r\nX-Client: test\r\ncontent-LENGTH:   3\r\n \t\r\nabc`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 3\n\nabc`);
    bob!.send(`RECEIVED ${alice}\r\n\r\n`);
    await alice!.receives(`SENT ${bob}\n\n`);
  }),

  contract("§4", { id: "delivery.unknown-recipient", title: "answers ERROR 102 at once for an unknown recipient", cast: ["alice"] }, async ({ alice }, stage) => {
    alice!.send(`SEND ${stage.name("nobody")}\nContent-length: 1\n\nx`);
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  contract("§4", { id: "delivery.malformed-recipient", title: "answers ERROR 102 for a recipient name that breaks the username rule", cast: ["alice"] }, async ({ alice }) => {
    alice!.send("SEND bob!\nContent-length: 1\n\nx");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  contract("§4", { id: "delivery.half-registered", title: "answers ERROR 102 for a recipient who holds only one role", cast: ["alice"] }, async ({ alice }, stage) => {
    const half = await stage.connect("bob(half)");
    half.send(`REGISTER TORECV ${stage.name("bob")}\n\n`);
    await half.receives(`REGISTERED TORECV ${stage.name("bob")}\n\n`);
    alice!.send(`SEND ${stage.name("bob")}\nContent-length: 1\n\nx`);
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  contract("§4", { id: "delivery.error-answer", title: "answers ERROR 102 when the recipient answers ERROR 103", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    bob!.send("ERROR 103 Header Incomplete\n\n");
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  contract("§4", { id: "delivery.wrong-name", title: "counts a RECEIVED with the wrong name as a failed delivery", cast: ["alice", "bob"] }, async ({ alice, bob }, stage) => {
    alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    bob!.send(`RECEIVED ${stage.name("mallory")}\n\n`);
    await alice!.receives("ERROR 102 Unable to send\n\n");
  }),

  contract("§4", { id: "delivery.stray-answer", title: "ignores an answer with nothing outstanding", cast: ["alice", "bob"] }, async ({ alice, bob }) => {
    bob!.send(`RECEIVED ${alice}\n\nERROR 103 Header incomplete\n\n`);
    alice!.send(`SEND ${bob}\nContent-length: 1\n\nx`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\nx`);
    bob!.send(`RECEIVED ${alice}\n\n`);
    await alice!.receives(`SENT ${bob}\n\n`);
  }),

  contract("§4", { id: "delivery.pipelined", title: "answers pipelined SENDs in SEND order even when answered out of order", cast: ["alice", "bob", "carol"] }, async ({ alice, bob, carol }, stage) => {
    alice!.send(`SEND ${bob}\nContent-length: 1\n\n1SEND ${carol}\nContent-length: 1\n\n2SEND ${stage.name("nobody")}\nContent-length: 1\n\n3SEND ${bob}\nContent-length: 1\n\n4`);
    await bob!.receives(`FORWARD ${alice}\nContent-length: 1\n\n1FORWARD ${alice}\nContent-length: 1\n\n4`);
    await carol!.receives(`FORWARD ${alice}\nContent-length: 1\n\n2`);
    carol!.send(`RECEIVED ${alice}\n\n`);
    bob!.send(`RECEIVED ${alice}\n\nERROR 103 Header incomplete\n\n`);
    await alice!.receives(`SENT ${bob}\n\nSENT ${carol}\n\nERROR 102 Unable to send\n\nERROR 102 Unable to send\n\n`);
  }),

  contract("§4", { id: "delivery.answer-order", title: "answers each recipient's FORWARDs in the order they were written", cast: ["alice", "bob", "carol"] }, async ({ alice, bob, carol }) => {
    alice!.send(`SEND ${carol}\nContent-length: 1\n\na`);
    await carol!.receives(`FORWARD ${alice}\nContent-length: 1\n\na`);
    bob!.send(`SEND ${carol}\nContent-length: 1\n\nb`);
    await carol!.receives(`FORWARD ${bob}\nContent-length: 1\n\nb`);
    carol!.send(`RECEIVED ${alice}\n\nRECEIVED ${bob}\n\n`);
    await alice!.receives(`SENT ${carol}\n\n`);
    await bob!.receives(`SENT ${carol}\n\n`);
  }),

  // docs/protocol.md D14: a registration may wait on the directory; what was
  // pipelined behind it is handled after it, in order, as if it were instant.
  decision("D14", { id: "delivery.behind-register", title: "handles a SEND pipelined behind the REGISTER that completes the user", cast: ["bob"] }, async ({ bob }, stage) => {
    const carol = stage.name("carol");
    const sender = await stage.connect("carol(send)");
    const receiver = stage.mode === "two-connection" ? await stage.connect("carol(recv)") : sender;
    receiver.send(`REGISTER TORECV ${carol}\n\n`);
    await receiver.receives(`REGISTERED TORECV ${carol}\n\n`);
    sender.send(`REGISTER TOSEND ${carol}\n\nSEND ${bob}\nContent-length: 2\n\nhiSEND ${stage.name("nobody")}\nContent-length: 0\n\n`);
    await sender.receives(`REGISTERED TOSEND ${carol}\n\n`);
    await bob!.receives(`FORWARD ${carol}\nContent-length: 2\n\nhi`);
    bob!.send(`RECEIVED ${carol}\n\n`);
    await sender.receives(`SENT ${bob}\n\nERROR 102 Unable to send\n\n`);
  }),

  // docs/protocol.md §6: a client may spell a name in any case; the server
  // always names a user as they registered.
  contract("§6", { id: "names.any-case", title: "takes names in any case and answers in the spelling that registered", cast: ["Alice", "bob"] }, async ({ Alice, bob }) => {
    Alice!.send(`SEND ${bob!.name.toUpperCase()}\nContent-length: 2\n\nhi`);
    await bob!.receives(`FORWARD ${Alice}\nContent-length: 2\n\nhi`);
    bob!.send(`RECEIVED ${Alice!.name.toLowerCase()}\n\n`);
    await Alice!.receives(`SENT ${bob}\n\n`);
    Alice!.send("SEND all\nContent-length: 2\n\nyo");
    await bob!.receives(`FORWARD ${Alice}\nContent-length: 2\n\nyo`);
    bob!.send(`RECEIVED ${Alice!.name.toUpperCase()}\n\n`);
    await Alice!.receives("SENT ALL\n\n");
  }),
];
