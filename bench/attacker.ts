// The attack scenario's flooder, a process of its own so that its work is not
// charged to the honest generator. One user from its own address
// (attack.address), both roles on one connection (PROTOCOL.md §3), keeps
// attack.inflight SENDs of attack.body bytes to one honest receiver in flight,
// refilled on every chunk of replies. It reads and discards every reply, so
// the server's backpressure on unread replies (docs/protocol.md D30) never
// slows it: only the server's own limits (its share of the receiver's queue,
// D26) and how fast the receiver answers do.
//
//   bun bench/attacker.ts <port>
// prints one JSON event per line on stdout, as the generator does: ready once
// registered, attacked at the end. Its stdin drives it, one line a step: the
// first starts the flood (once the honest users exist), the second starts the
// count (the measured window); the end of stdin ends the count and the process.

import { ascii } from "../src/protocol/ascii.ts";
import { Role, encodeSend } from "../src/protocol/messages.ts";
import { attack, die, emit, repeated } from "./load.ts";
import { connectParley, register } from "./load-parley.ts";

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const setupStart = performance.now();
  const known = [ascii(`SENT ${attack.victim}\n\n`), ascii("ERROR 102 Unable to send\n\n")];
  const client = await connectParley({ port, body: attack.body, decoder: "cached" }, known, attack.address);
  await register(client, Role.ToSend, attack.name);
  await register(client, Role.ToRecv, attack.name);
  emit({ event: "ready", connections: 1, setupMs: performance.now() - setupStart });

  const send = encodeSend(attack.victim, new Uint8Array(attack.body).fill(0x6d));
  const sends = repeated(send, attack.inflight);
  let inflight = 0;
  let sent = 0;
  let refused = 0;
  // The SENDs are all alike, so the bytes owed are a window on one endless
  // stream of them: written straight from the block at the stream's offset,
  // as much as the kernel takes, with no copy and no queue (an outbox copies
  // what a blocked socket did not take, megabytes per refill here).
  let owed = 0;
  let at = 0;
  const write = () => {
    while (owed > 0) {
      const written = client.socket!.write(sends, at, Math.min(owed, sends.length - at));
      if (written <= 0) return; // full: drain calls again; closed: the close handler reports it
      owed -= written;
      at = (at + written) % send.length;
    }
  };
  client.onDrain = write;
  const fill = () => {
    owed += (attack.inflight - inflight) * send.length;
    inflight = attack.inflight;
    write();
  };
  client.onFrame = (head) => {
    if (head.verb === "SENT") sent++;
    else if (head.verb === "ERROR" && head.code === 102) refused++;
    else die(`attacker got ${head.verb}`);
    inflight--;
  };
  const parse = client.onBytes;
  client.onBytes = (chunk) => {
    parse(chunk);
    fill();
  };

  let steps = 0;
  for await (const chunk of Bun.stdin.stream()) {
    for (const byte of chunk) {
      if (byte !== 0x0a) continue;
      if (++steps === 1) fill();
      else sent = refused = 0;
    }
  }
  client.end();
  emit({ event: "attacked", sent, refused }, () => process.exit(0));
}

main().catch((error: unknown) => {
  try {
    die(error);
  } catch {
    // already reported
  }
});
