// The generator's raw-relay users (bench/baseline.ts, bench/baseline-ws.ts):
// an 8-byte hello per connection, then fixed-size records out and fixed-size
// acks back; over WebSocket each hello, record and ack is one message.

import type { Client } from "./connection.ts";
import { RawKind, ackBytes, encodeHello, helloBytes, recordOverhead } from "./raw-wire.ts";
import { Pump, die, pool, repeated, type GeneratorConfig } from "./load.ts";
import { connectFor } from "./ws-connection.ts";

export async function joinRaw(config: GeneratorConfig, kind: RawKind, group: number): Promise<Client> {
  const client = await connectFor({ port: config.port, websocket: config.websocket }); // the raw relays do no TLS
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
  client.write(client.frame(encodeHello(kind, group)));
  await promise;
  return client;
}

/**
 * Answers every complete record with one ack, a chunk's acks in one write.
 * The block of acks is never mutated, so the outbox may hold views of it;
 * `inflight` of them answer a chunk, and the loop a relay that sends more.
 */
function ackRecords(config: GeneratorConfig, client: Client, recordBytes: number): void {
  const ack = client.frame(new Uint8Array(ackBytes));
  const block = repeated(ack, config.inflight);
  let pending = 0;
  client.onBytes = (chunk) => {
    pending += chunk.length;
    let records = Math.floor(pending / recordBytes);
    pending -= records * recordBytes;
    while (records > 0) {
      const now = Math.min(records, config.inflight);
      client.writePrefix(block, now * ack.length);
      records -= now;
    }
  };
}

/** Counts acks by their size alone: one complete() and one write per chunk, however many records it answers. */
function pumpRecords(config: GeneratorConfig, client: Client): Pump {
  const recordBytes = config.body + recordOverhead;
  const record = client.frame(new Uint8Array(recordBytes).fill(0x61));
  const records = repeated(record, config.inflight);
  const pump = new Pump(config.inflight, (count) => client.writePrefix(records, count * record.length));
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
      ackRecords(config, await joinRaw(config, RawKind.BroadcastReceiver, 0), recordBytes);
      await joinRaw(config, RawKind.Idle, 0); // the user's other connection
    });
    const sender = await joinRaw(config, RawKind.BroadcastSender, 0);
    await joinRaw(config, RawKind.Idle, 0);
    return [pumpRecords(config, sender)];
  }
  const pumps: Pump[] = [];
  await pool(config.pairs, config.concurrency, async (i) => {
    // Receivers join first: the relay forwards only to a receiver it knows.
    ackRecords(config, await joinRaw(config, RawKind.Receiver, i), recordBytes);
    // A TCP user's other connection each; a WebSocket user has one connection, both roles on it.
    if (!config.websocket) await Promise.all([joinRaw(config, RawKind.Idle, i), joinRaw(config, RawKind.Idle, i)]);
    pumps.push(pumpRecords(config, await joinRaw(config, RawKind.Sender, i)));
  });
  return pumps;
}
