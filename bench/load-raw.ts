// The generator's raw-relay users (bench/baseline.ts): an 8-byte hello per
// connection, then fixed-size records out and fixed-size acks back.

import { RawKind, ackBytes, encodeHello, helloBytes, recordOverhead } from "./raw-wire.ts";
import { connect, type Client } from "./connection.ts";
import { Pump, die, pool, repeated, type GeneratorConfig } from "./load.ts";

export async function joinRaw(config: GeneratorConfig, kind: RawKind, group: number): Promise<Client> {
  const client = await connect(config.port, undefined); // the raw relay is plain TCP only
  const { promise, resolve } = Promise.withResolvers<void>();
  let left = helloBytes;
  client.onBytes = (chunk) => {
    const take = Math.min(left, chunk.length);
    left -= take;
    if (left > 0) return;
    resolve();
    client.onBytes = () => die("raw data before the run");
    if (take < chunk.length) die("raw data before the run");
  };
  client.write(encodeHello(kind, group));
  await promise;
  return client;
}

// One block of acks to answer many records at once; never mutated, so the outbox may hold views of it.
const ackBlock = new Uint8Array(ackBytes * 4096);

/** Answers every complete record with one ack. */
function ackRecords(client: Client, recordBytes: number): void {
  let pending = 0;
  client.onBytes = (chunk) => {
    pending += chunk.length;
    let records = Math.floor(pending / recordBytes);
    pending -= records * recordBytes;
    while (records > 0) {
      const now = Math.min(records, 4096);
      client.writePrefix(ackBlock, now * ackBytes);
      records -= now;
    }
  };
}

/** Counts acks by their size alone: one complete() and one write per chunk, however many records it answers. */
function pumpRecords(config: GeneratorConfig, client: Client): Pump {
  const recordBytes = config.body + recordOverhead;
  const records = repeated(new Uint8Array(recordBytes).fill(0x61), config.inflight);
  const pump = new Pump(config.inflight, (count) => client.writePrefix(records, count * recordBytes));
  let pending = 0;
  client.onBytes = (chunk) => {
    pending += chunk.length;
    const acks = Math.floor(pending / ackBytes);
    pending -= acks * ackBytes;
    pump.complete(acks);
    pump.fill();
  };
  return pump;
}

export async function setupRaw(config: GeneratorConfig): Promise<Pump[]> {
  const recordBytes = config.body + recordOverhead;
  if (config.kind === "broadcast") {
    await pool(config.receivers, config.concurrency, async () => {
      ackRecords(await joinRaw(config, RawKind.BroadcastReceiver, 0), recordBytes);
      await joinRaw(config, RawKind.Idle, 0); // the user's other connection
    });
    const sender = await joinRaw(config, RawKind.BroadcastSender, 0);
    await joinRaw(config, RawKind.Idle, 0);
    return [pumpRecords(config, sender)];
  }
  const pumps: Pump[] = [];
  await pool(config.pairs, config.concurrency, async (i) => {
    // Receivers join first: the relay forwards only to a receiver it knows.
    ackRecords(await joinRaw(config, RawKind.Receiver, i), recordBytes);
    await Promise.all([joinRaw(config, RawKind.Idle, i), joinRaw(config, RawKind.Idle, i)]);
    pumps.push(pumpRecords(config, await joinRaw(config, RawKind.Sender, i)));
  });
  return pumps;
}
