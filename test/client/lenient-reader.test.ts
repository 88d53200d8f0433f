// --compat's reader (docs/protocol.md D68): each row fed whole, byte by byte
// and split at every boundary must give the same frames.

import { describe, expect, test } from "bun:test";
import { LenientReader } from "../../src/client/lenient-reader.ts";
import { ProtocolError } from "../../src/protocol/errors.ts";
import type { ServerHead } from "../../src/protocol/messages.ts";

const limits = { maxHeaderBytes: 64, maxBodyBytes: 16 };
const utf8 = new TextEncoder();
type Frame = { head: ServerHead; body: string };

function read(chunks: readonly Uint8Array[]): { frames: Frame[]; error: ProtocolError | undefined } {
  const reader = new LenientReader(limits);
  const frames: Frame[] = [];
  let error: ProtocolError | undefined;
  for (const chunk of chunks) error = reader.push(chunk, (head, body) => frames.push({ head, body: new TextDecoder().decode(body) }));
  return { frames, error };
}

/** The wire whole, byte by byte, and cut in two at every offset. */
function feeds(wire: string): Uint8Array[][] {
  const bytes = utf8.encode(wire);
  const feeds = [[bytes], [...bytes].map((b) => new Uint8Array([b]))];
  for (let i = 1; i < bytes.length; i++) feeds.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return feeds;
}

const rows: { name: string; wire: string; frames: Frame[] }[] = [
  { name: "a reply ended by a single \\n", wire: "REGISTERED TOSEND alice\n", frames: [{ head: { verb: "REGISTERED", role: "TOSEND", name: "alice", length: 0 }, body: "" }] },
  { name: "a reply ended by \\n \\n, with a trailing space", wire: "REGISTERED TOSEND alice \n \n", frames: [{ head: { verb: "REGISTERED", role: "TOSEND", name: "alice", length: 0 }, body: "" }] },
  { name: "SEND <name> as the success reply (docs/protocol.md D8)", wire: "SEND bob\n", frames: [{ head: { verb: "SENT", to: "bob", length: 0 }, body: "" }] },
  {
    name: "replies ended properly and not, back to back",
    wire: "SENT bob\n\nSENT carol\nERROR 102 Unable to send\n\n",
    frames: [
      { head: { verb: "SENT", to: "bob", length: 0 }, body: "" },
      { head: { verb: "SENT", to: "carol", length: 0 }, body: "" },
      { head: { verb: "ERROR", code: 102, text: "Unable to send", length: 0 }, body: "" },
    ],
  },
  { name: "a FORWARD whose body follows Content-length's line directly", wire: "FORWARD alice\nContent-length: 5\nhello", frames: [{ head: { verb: "FORWARD", from: "alice", length: 5 }, body: "hello" }] },
  { name: "a FORWARD ended by \\n \\n", wire: "FORWARD alice\nContent-length: 5 \n \nhello", frames: [{ head: { verb: "FORWARD", from: "alice", length: 5 }, body: "hello" }] },
  { name: "a FORWARD in \\r\\n", wire: "FORWARD alice\r\nContent-length: 5\r\n\r\nhello", frames: [{ head: { verb: "FORWARD", from: "alice", length: 5 }, body: "hello" }] },
  { name: "a body that begins with spaces after a single \\n", wire: "FORWARD alice\nContent-length: 4\n  x\n", frames: [{ head: { verb: "FORWARD", from: "alice", length: 4 }, body: "  x\n" }] },
  {
    name: "an empty FORWARD with a single \\n, then a reply",
    wire: "FORWARD alice\nContent-length: 0\nSENT bob\n",
    frames: [
      { head: { verb: "FORWARD", from: "alice", length: 0 }, body: "" },
      { head: { verb: "SENT", to: "bob", length: 0 }, body: "" },
    ],
  },
  {
    name: "a body holding \\n\\n and verbs, then the next FORWARD",
    wire: "FORWARD a\nContent-length: 10\n\nSENT x\n\nhiFORWARD b\nContent-length: 1\n!",
    frames: [
      { head: { verb: "FORWARD", from: "a", length: 10 }, body: "SENT x\n\nhi" },
      { head: { verb: "FORWARD", from: "b", length: 1 }, body: "!" },
    ],
  },
];

describe("LenientReader", () => {
  for (const row of rows) {
    test(`reads ${row.name}, however the stream is split`, () => {
      for (const chunks of feeds(row.wire)) {
        const { frames, error } = read(chunks);
        expect(error).toBeUndefined();
        expect(frames).toEqual(row.frames);
      }
    });
  }

  const errors: { name: string; wire: string; reason: string }[] = [
    { name: "an unknown verb", wire: "HELLO there\n", reason: "unknown-verb" },
    { name: "a body over the limit, before any of it", wire: "FORWARD a\nContent-length: 17\n\n", reason: "body-too-long" },
    { name: "a header block over the limit", wire: `FORWARD a\nX: ${"y".repeat(64)}`, reason: "header-too-long" },
    { name: "an endless run of spaces after Content-length", wire: `FORWARD a\nContent-length: 1\n${" ".repeat(70)}`, reason: "header-too-long" },
  ];
  for (const row of errors) {
    test(`refuses ${row.name} with ERROR 103, and stays failed`, () => {
      for (const chunks of feeds(row.wire)) {
        const reader = new LenientReader(limits);
        let error: ProtocolError | undefined;
        for (const chunk of chunks) error = reader.push(chunk, () => {});
        expect(error?.code).toBe(103);
        expect(error?.reason).toBe(row.reason as never);
        expect(reader.push(utf8.encode("SENT bob\n"), () => expect.unreachable())).toBe(error);
      }
    });
  }
});
