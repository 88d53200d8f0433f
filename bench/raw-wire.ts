// The baseline relays' wire format, shared by bench/baseline.ts,
// bench/baseline-ws.ts and the generator. No protocol at all: one 8-byte hello
// says which group and side a connection is, then the relay only moves bytes.
// The generator frames fixed-size records so it can count round trips without
// parsing anything.

/** What a connection is to the raw relay, sent as byte 0 of its hello. */
export const RawKind = {
  /** Unicast: A in A -> relay -> B -> relay -> A. */
  Sender: 1,
  /** Unicast: B; everything it writes goes back to its group's sender. */
  Receiver: 2,
  /** Broadcast: what it writes goes to every BroadcastReceiver of its group. */
  BroadcastSender: 3,
  /** Broadcast: its acks are counted; the sender gets one ack per full round of them. */
  BroadcastReceiver: 4,
  /** Holds a connection and nothing else (the scale scenario). */
  Idle: 5,
} as const;
export type RawKind = (typeof RawKind)[keyof typeof RawKind];

export const helloBytes = 8;
/** A receiver's answer to one data record: the size of `RECEIVED <name>\n\n` for short names. */
export const ackBytes = 16;
/** The fixed part of a data record: about the size of a SEND/FORWARD header block. */
export const recordOverhead = 32;

/** Hello: [kind, 0, 0, 0, group as u32 LE]. The relay answers it with the same 8 bytes. */
export function encodeHello(kind: RawKind, group: number): Uint8Array {
  const hello = new Uint8Array(helloBytes);
  hello[0] = kind;
  new DataView(hello.buffer).setUint32(4, group, true);
  return hello;
}

export function decodeHello(hello: Uint8Array): { kind: number; group: number } {
  return { kind: hello[0]!, group: new DataView(hello.buffer, hello.byteOffset, helloBytes).getUint32(4, true) };
}

/** Where a relay listens: `--host` (127.0.0.1) and `--port` (0, a free one) from its argv. */
export function relayAddress(argv: string[]): { hostname: string; port: number } {
  const flag = (name: string, fallback: string) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? (argv[at + 1] ?? fallback) : fallback;
  };
  return { hostname: flag("host", "127.0.0.1"), port: Number(flag("port", "0")) };
}
