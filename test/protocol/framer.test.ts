// Fixture rows for the framer (STYLE.md §9): each row's wire runs in every feed
// of test/support/feed.ts (one chunk, byte by byte, every two-chunk split,
// random splits, coalesced with neighbours) and must give the same frames or
// the same error every time.

import { describe, expect, test } from "bun:test";
import { ErrorCode, ProtocolError } from "../../src/protocol/errors.ts";
import { Framer } from "../../src/protocol/framer.ts";
import { defaultLimits, type FramerLimits } from "../../src/protocol/limits.ts";
import { decodeClientHead, decodeServerHead, type ClientHead, type ServerHead } from "../../src/protocol/messages.ts";
import { runChunks, runFeeds, type FeedResult } from "../support/feed.ts";
import { rng, seedFromEnv } from "../support/prng.ts";

const seed = seedFromEnv("PARLEY_SEED", 20240601);
const small: FramerLimits = { maxHeaderBytes: 64, maxBodyBytes: 100 };
const defaults: FramerLimits = { maxHeaderBytes: defaultLimits.maxHeaderBytes, maxBodyBytes: defaultLimits.maxBodyBytes };

type Head = ClientHead | ServerHead;
type Row = {
  name: string;
  wire: string | Uint8Array;
  /** Expected frames; a string body is UTF-8. */
  frames?: { head: Head; body?: string | Uint8Array }[];
  error?: typeof ErrorCode.HeaderIncomplete;
  /** Whose messages the wire holds: "client" rows use decodeClientHead (the server's reader), "server" rows decodeServerHead. */
  from?: "client" | "server";
  limits?: FramerLimits;
  partial?: boolean;
  skipEverySplit?: boolean;
};

const utf8 = new TextEncoder();

function bytes(...parts: (string | Uint8Array)[]): Uint8Array {
  const encoded = parts.map((p) => (typeof p === "string" ? utf8.encode(p) : p));
  const out = new Uint8Array(encoded.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of encoded) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bodies as latin1 text (one char per byte) so a failing diff is readable and still byte-exact. */
function shown(frames: readonly { head: Head; body: Uint8Array }[], code: number | undefined) {
  return { frames: frames.map((f) => ({ head: f.head, body: Buffer.from(f.body).toString("latin1") })), error: code };
}

function expected(row: Row) {
  const frames = (row.frames ?? []).map((f) => ({ head: f.head, body: bytes(f.body ?? "") }));
  return shown(frames, row.error);
}

function framerFor(row: Pick<Row, "from" | "limits">): () => Framer<Head> {
  const limits = row.limits ?? defaults;
  const decode = row.from === "server" ? decodeServerHead : decodeClientHead;
  return () => new Framer<Head>(limits, decode);
}

/** A header block of exactly `size` bytes: `first`, a padding field, then `fields`, then the empty line. */
function block(first: string, size: number, fields = "Content-length: 0\n", eol = "\n"): string {
  const fixed = `${first}${eol}X-Pad: ${eol}${fields}${eol}`;
  const pad = size - fixed.length;
  if (pad < 0) throw new RangeError(`block of ${size} bytes is too small for ${JSON.stringify(fixed)}`);
  const text = `${first}${eol}X-Pad: ${"p".repeat(pad)}${eol}${fields}${eol}`;
  if (text.length !== size) throw new RangeError("block size arithmetic");
  return text;
}

function runRows(rows: readonly Row[]): void {
  for (const row of rows) {
    test(row.name, () => {
      const wire = typeof row.wire === "string" ? bytes(row.wire) : row.wire;
      const limits = row.limits ?? defaults;
      const want = expected(row);
      const runs = runFeeds(framerFor(row), wire, { rng: rng(seed), partial: row.partial, skipEverySplit: row.skipEverySplit });
      for (const { label, result } of runs) {
        const where = `${row.name} [${label}] (PARLEY_SEED=${seed})`;
        expect(result.violations, where).toEqual([]);
        expect(shown(result.frames, result.error?.code), where).toEqual(want);
        expect(result.maxBuffered, where).toBeLessThanOrEqual(limits.maxHeaderBytes + limits.maxBodyBytes);
      }
    });
  }
}

const register = (role: "TOSEND" | "TORECV", name: string, length = 0): ClientHead => ({ verb: "REGISTER", role, name, length });
const send = (to: string, length: number): ClientHead => ({ verb: "SEND", to, length });
const received = (from: string, length = 0): ClientHead => ({ verb: "RECEIVED", from, length });
const error = (code: number, text: string, length = 0): Head => ({ verb: "ERROR", code, text, length });
const registered = (role: "TOSEND" | "TORECV", name: string): ServerHead => ({ verb: "REGISTERED", role, name, length: 0 });
const sent = (to: string): ServerHead => ({ verb: "SENT", to, length: 0 });
const forward = (from: string, length: number): ServerHead => ({ verb: "FORWARD", from, length });

describe("framer", () => {
  describe("client messages (decodeClientHead)", () => {
    runRows([
      { name: "frames REGISTER TOSEND", wire: "REGISTER TOSEND alice\n\n", frames: [{ head: register("TOSEND", "alice") }] },
      { name: "frames REGISTER TORECV", wire: "REGISTER TORECV bob\n\n", frames: [{ head: register("TORECV", "bob") }] },
      { name: "frames SEND with its body", wire: "SEND bob\nContent-length: 5\n\nhello", frames: [{ head: send("bob", 5), body: "hello" }] },
      { name: "frames SEND ALL", wire: "SEND ALL\nContent-length: 2\n\nhi", frames: [{ head: send("ALL", 2), body: "hi" }] },
      { name: "frames RECEIVED", wire: "RECEIVED alice\n\n", frames: [{ head: received("alice") }] },
      { name: "frames the client's ERROR 103 answer", wire: "ERROR 103 Header incomplete\n\n", frames: [{ head: error(103, "Header incomplete") }] },
      {
        name: "frames REGISTER TOSEND without a name, leaving the name rule to the server (ERROR 100)",
        wire: "REGISTER TOSEND\n\n",
        frames: [{ head: register("TOSEND", "") }],
      },
      { name: "frames RECEIVED without a name with from empty", wire: "RECEIVED\n\n", frames: [{ head: received("") }] },
      {
        name: "frames every client message in one stream",
        wire: "REGISTER TOSEND alice\n\nREGISTER TORECV alice\n\nSEND bob\nContent-length: 3\n\nhey" + "RECEIVED bob\n\nERROR 103 Header incomplete\n\n",
        frames: [
          { head: register("TOSEND", "alice") },
          { head: register("TORECV", "alice") },
          { head: send("bob", 3), body: "hey" },
          { head: received("bob") },
          { head: error(103, "Header incomplete") },
        ],
      },
      { name: "refuses REGISTER with an unknown role", wire: "REGISTER BOTH alice\n\n", error: 103 },
      { name: "refuses REGISTER with a lowercase role", wire: "REGISTER tosend alice\n\n", error: 103 },
      { name: "refuses REGISTER with no role at all", wire: "REGISTER\n\n", error: 103 },
      { name: "refuses a server verb sent by a client", wire: "SENT bob\n\n", error: 103 },
    ]);
  });

  describe("server messages (decodeServerHead)", () => {
    runRows([
      { name: "frames REGISTERED TOSEND", from: "server", wire: "REGISTERED TOSEND alice\n\n", frames: [{ head: registered("TOSEND", "alice") }] },
      { name: "frames REGISTERED TORECV", from: "server", wire: "REGISTERED TORECV alice\n\n", frames: [{ head: registered("TORECV", "alice") }] },
      { name: "frames SENT", from: "server", wire: "SENT bob\n\n", frames: [{ head: sent("bob") }] },
      { name: "frames SENT ALL", from: "server", wire: "SENT ALL\n\n", frames: [{ head: sent("ALL") }] },
      { name: "accepts the original table's SEND <name> as SENT", from: "server", wire: "SEND bob\n\n", frames: [{ head: sent("bob") }] },
      { name: "frames FORWARD with its body", from: "server", wire: "FORWARD alice\nContent-length: 5\n\nhello", frames: [{ head: forward("alice", 5), body: "hello" }] },
      ...([100, 101, 102, 103, 104] as const).map((code) => {
        const text = { 100: "Malformed username", 101: "No user registered", 102: "Unable to send", 103: "Header incomplete", 104: "Username taken" }[code];
        return { name: `frames ERROR ${code} ${text}`, from: "server" as const, wire: `ERROR ${code} ${text}\n\n`, frames: [{ head: error(code, text) }] };
      }),
      { name: "refuses FORWARD without a sender", from: "server", wire: "FORWARD\nContent-length: 1\n\nx", error: 103 },
      { name: "refuses FORWARD without Content-length", from: "server", wire: "FORWARD alice\n\nhello", error: 103 },
      { name: "refuses REGISTERED with an unknown role", from: "server", wire: "REGISTERED TOBOTH alice\n\n", error: 103 },
      { name: "refuses a client verb sent by a server", from: "server", wire: "RECEIVED alice\n\n", error: 103 },
    ]);
  });

  describe("header syntax", () => {
    runRows([
      { name: "accepts CRLF line endings everywhere", wire: "SEND bob\r\nContent-length: 5\r\n\r\nhello", frames: [{ head: send("bob", 5), body: "hello" }] },
      { name: "accepts CRLF and LF mixed in one block", wire: "SEND bob\r\nContent-length: 5\n\r\nhello", frames: [{ head: send("bob", 5), body: "hello" }] },
      { name: "keeps a \\r\\n inside a body as body bytes", wire: "SEND bob\r\nContent-length: 4\r\n\r\n\r\n\r\n", frames: [{ head: send("bob", 4), body: "\r\n\r\n" }] },
      ...["Content-Length", "content-length", "CONTENT-LENGTH", "cOnTeNt-LeNgTh"].map((field) => ({
        name: `reads the field name ${field} as Content-length`,
        wire: `SEND bob\n${field}: 5\n\nhello`,
        frames: [{ head: send("bob", 5), body: "hello" }],
      })),
      { name: "accepts no space after the colon", wire: "SEND bob\nContent-length:5\n\nhello", frames: [{ head: send("bob", 5), body: "hello" }] },
      { name: "ignores spaces and tabs after the colon", wire: "SEND bob\nContent-length: \t 5\n\nhello", frames: [{ head: send("bob", 5), body: "hello" }] },
      {
        name: "ignores trailing spaces and tabs on every header line",
        wire: "SEND bob \t\nContent-length: 5  \t\n\nhello",
        frames: [{ head: send("bob", 5), body: "hello" }],
      },
      { name: "ends a block at a line of spaces and tabs", wire: "SEND bob\nContent-length: 5\n \t\nhello", frames: [{ head: send("bob", 5), body: "hello" }] },
      { name: "ends a header-only block at a line of spaces and tabs", wire: "REGISTER TOSEND alice\n \t\n", frames: [{ head: register("TOSEND", "alice") }] },
      { name: "ends a block at a line of spaces and CRLF", wire: "RECEIVED bob\r\n  \r\n", frames: [{ head: received("bob") }] },
      {
        name: "skips empty and whitespace-only lines before a message",
        wire: "\n\r\n \t\n\nREGISTER TOSEND alice\n\n",
        frames: [{ head: register("TOSEND", "alice") }],
      },
      {
        name: "skips the extra newline some clients write after a body",
        wire: "SEND bob\nContent-length: 5\n\nhello\nSEND carol\nContent-length: 2\n\nhi\n",
        frames: [{ head: send("bob", 5), body: "hello" }, { head: send("carol", 2), body: "hi" }],
      },
      { name: "yields nothing for empty lines alone", wire: "\n\r\n \n\t\n", frames: [] },
      {
        name: "ignores unknown fields before and after Content-length",
        wire: "SEND bob\nX-Client: nc: 1.0\nContent-length: 5\nUser-Agent: parley\nX-Empty:\n\nhello",
        frames: [{ head: send("bob", 5), body: "hello" }],
      },
      { name: "ignores a field whose name only starts like Content-length", wire: "SEND bob\nContent-length-x: 9\nContent-length: 1\n\nx", frames: [{ head: send("bob", 1), body: "x" }] },
      { name: "keeps extra spaces inside the arguments", wire: "SEND  bob\nContent-length: 0\n\n", frames: [{ head: send(" bob", 0) }] },
      { name: "refuses an unknown verb", wire: "HELLO bob\n\n", error: 103 },
      { name: "refuses a lowercase verb", wire: "send bob\nContent-length: 5\n\nhello", error: 103 },
      { name: "refuses a first line that starts with a space", wire: " SEND bob\nContent-length: 0\n\n", error: 103 },
      { name: "refuses a verb followed by a tab instead of a space", wire: "SEND\tbob\nContent-length: 0\n\n", error: 103 },
      { name: "refuses a field line without a colon", wire: "SEND bob\nContent-length 5\n\nhello", error: 103 },
      { name: "refuses a field line with an empty name", wire: "SEND bob\n: 5\nContent-length: 5\n\nhello", error: 103 },
      { name: "refuses a field name with a space before the colon", wire: "SEND bob\nContent-length : 5\n\nhello", error: 103 },
      { name: "refuses a field name with a non-ASCII byte", wire: bytes("SEND bob\nX-\xff: 1\nContent-length: 0\n\n"), error: 103 },
      {
        name: "delivers every good frame before the bad one",
        wire: "REGISTER TOSEND alice\n\nRECEIVED bob\n\nHELLO\n\nRECEIVED carol\n\n",
        frames: [{ head: register("TOSEND", "alice") }, { head: received("bob") }],
        error: 103,
      },
      { name: "waits for the rest of a block that has no empty line yet", wire: "SEND bob\nContent-length: 5\n", partial: true, frames: [] },
      { name: "waits for the rest of a body", wire: "SEND bob\nContent-length: 5\n\nhel", partial: true, frames: [] },
    ]);
  });

  describe("bodies", () => {
    const verbish = "REGISTER TOSEND eve\n\nSEND ALL\nContent-length: 1\n\n\n\n";
    const utf8Body = "héllo wörld, 你好, 👋🏽";
    runRows([
      {
        name: "frames a body that contains \\n\\n and verb-like bytes, then the next message",
        wire: `SEND bob\nContent-length: ${verbish.length}\n\n${verbish}RECEIVED bob\n\n`,
        frames: [{ head: send("bob", verbish.length), body: verbish }, { head: received("bob") }],
      },
      {
        name: "counts Content-length in bytes, not characters, for a multibyte UTF-8 body split anywhere",
        wire: `SEND bob\nContent-length: ${utf8.encode(utf8Body).length}\n\n${utf8Body}RECEIVED x\n\n`,
        frames: [{ head: send("bob", utf8.encode(utf8Body).length), body: utf8Body }, { head: received("x") }],
      },
      {
        name: "frames arbitrary binary bytes in a body",
        wire: bytes("SEND bob\nContent-length: 6\n\n", new Uint8Array([0, 0xff, 0x0a, 0x0a, 0x0d, 0x80])),
        frames: [{ head: send("bob", 6), body: new Uint8Array([0, 0xff, 0x0a, 0x0a, 0x0d, 0x80]) }],
      },
      {
        name: "frames Content-length 0 as an empty body and goes on",
        wire: "SEND bob\nContent-length: 0\n\nSEND bob\nContent-length: 1\n\n!",
        frames: [{ head: send("bob", 0) }, { head: send("bob", 1), body: "!" }],
      },
      {
        name: "reads a body on a message that does not use one, so the stream stays in step",
        wire: "RECEIVED alice\nContent-length: 9\n\nSENT bob\n\nREGISTER TORECV bob\nContent-length: 2\n\nokRECEIVED bob\n\n",
        frames: [{ head: received("alice", 9), body: "SENT bob\n" }, { head: register("TORECV", "bob", 2), body: "ok" }, { head: received("bob") }],
      },
      {
        name: "reads a body on an ERROR answer",
        wire: "ERROR 103 Header incomplete\nContent-length: 3\n\nabcRECEIVED x\n\n",
        frames: [{ head: error(103, "Header incomplete", 3), body: "abc" }, { head: received("x") }],
      },
    ]);
  });

  describe("Content-length", () => {
    runRows([
      { name: "refuses SEND without Content-length", wire: "SEND bob\n\nhello", error: 103 },
      { name: "refuses FORWARD without Content-length", from: "server", wire: "FORWARD bob\nX-Length: 5\n\nhello", error: 103 },
      { name: "refuses SEND with no recipient", wire: "SEND\nContent-length: 5\n\nhello", error: 103 },
      { name: "refuses SEND whose recipient is only trailing spaces", wire: "SEND  \t\nContent-length: 5\n\nhello", error: 103 },
      ...[
        ["a negative value", "-1"],
        ["a non-numeric value", "five"],
        ["a hex value", "0x5"],
        ["a value with a space inside", "1 0"],
        ["a value with a plus sign", "+5"],
        ["a value with trailing letters", "5x"],
        ["a fractional value", "5.0"],
        ["an empty value", ""],
        ["16 digits even when the value is small", "0000000000000005"],
        ["20 digits", "99999999999999999999"],
      ].map(([what, value]) => ({ name: `refuses ${what} (${JSON.stringify(value)})`, wire: `SEND bob\nContent-length: ${value}\n\nhello`, error: 103 as const })),
      { name: "refuses a bad Content-length on a message that needs no body", wire: "RECEIVED bob\nContent-length: x\n\n", error: 103 },
      { name: "accepts 15 digits with leading zeros", wire: "SEND bob\nContent-length: 000000000000005\n\nhello", frames: [{ head: send("bob", 5), body: "hello" }] },
      { name: "refuses 15 digits that exceed the body limit", wire: "SEND bob\nContent-length: 999999999999999\n\n", error: 103 },
      { name: "refuses two Content-length fields that disagree", wire: "SEND bob\nContent-length: 5\nContent-length: 6\n\nhello!", error: 103 },
      {
        name: "accepts two Content-length fields that agree, in any case",
        wire: "SEND bob\nContent-length: 5\ncontent-LENGTH: 5\n\nhello",
        frames: [{ head: send("bob", 5), body: "hello" }],
      },
    ]);
  });

  describe("header limit", () => {
    const exact = block("SEND bob", small.maxHeaderBytes);
    const over = block("SEND bob", small.maxHeaderBytes + 1);
    const unterminated = `SEND bob\nX-Pad: ${"p".repeat(small.maxHeaderBytes)}`;
    runRows([
      { name: "passes a block of exactly maxHeaderBytes (64)", limits: small, wire: exact, frames: [{ head: send("bob", 0) }] },
      { name: "fails a block of maxHeaderBytes + 1", limits: small, wire: over, error: 103 },
      {
        name: "counts CRLF bytes: a CRLF block of exactly maxHeaderBytes passes",
        limits: small,
        wire: block("SEND bob", small.maxHeaderBytes, "Content-length: 0\r\n", "\r\n"),
        frames: [{ head: send("bob", 0) }],
      },
      { name: "counts CRLF bytes: a CRLF block of maxHeaderBytes + 1 fails", limits: small, wire: block("SEND bob", small.maxHeaderBytes + 1, "Content-length: 0\r\n", "\r\n"), error: 103 },
      { name: "does not count skipped empty lines before a block", limits: small, wire: `\n\r\n \n${exact}`, frames: [{ head: send("bob", 0) }] },
      { name: "applies the limit to each block on its own", limits: small, wire: exact + exact + exact, frames: [{ head: send("bob", 0) }, { head: send("bob", 0) }, { head: send("bob", 0) }] },
      { name: "waits on an unterminated block of exactly maxHeaderBytes", limits: small, wire: unterminated.slice(0, small.maxHeaderBytes), partial: true, frames: [] },
      { name: "fails an unterminated block at maxHeaderBytes + 1, before any empty line", limits: small, wire: unterminated.slice(0, small.maxHeaderBytes + 1), error: 103 },
      { name: "fails a single endless first line", limits: small, wire: `SEND ${"b".repeat(small.maxHeaderBytes)}`, error: 103 },
      { name: "passes a block of exactly the default 8192 bytes", wire: block("SEND bob", 8192), frames: [{ head: send("bob", 0) }], skipEverySplit: true },
      { name: "fails a block of 8193 bytes with the default limits", wire: block("SEND bob", 8193), error: 103, skipEverySplit: true },
    ]);

    test("fails on the very push that brings the block to maxHeaderBytes + 1", () => {
      const framer = new Framer<Head>(small, decodeClientHead);
      const wire = bytes(unterminated);
      for (let i = 0; i < small.maxHeaderBytes; i++) {
        expect(framer.push(wire.subarray(i, i + 1), () => {}), `byte ${i}`).toBeUndefined();
      }
      expect(framer.bufferedBytes).toBe(small.maxHeaderBytes);
      expect(framer.push(wire.subarray(small.maxHeaderBytes, small.maxHeaderBytes + 1), () => {})?.code).toBe(103);
    });
  });

  describe("body limit", () => {
    const max = small.maxBodyBytes;
    runRows([
      {
        name: "passes Content-length equal to maxBodyBytes (100)",
        limits: small,
        wire: `SEND bob\nContent-length: ${max}\n\n${"b".repeat(max)}`,
        frames: [{ head: send("bob", max), body: "b".repeat(max) }],
      },
      { name: "fails Content-length maxBodyBytes + 1 from the header alone", limits: small, wire: `SEND bob\nContent-length: ${max + 1}\n\n`, error: 103 },
      { name: "fails Content-length maxBodyBytes + 1 with its body following", limits: small, wire: `SEND bob\nContent-length: ${max + 1}\n\n${"b".repeat(max + 1)}`, error: 103 },
      { name: "fails an oversize Content-length on a message that needs no body", limits: small, wire: `RECEIVED bob\nContent-length: ${max + 1}\n\n`, error: 103 },
      {
        name: "passes Content-length equal to the default 65536",
        wire: `SEND bob\nContent-length: 65536\n\n${"z".repeat(65536)}`,
        frames: [{ head: send("bob", 65536), body: "z".repeat(65536) }],
        skipEverySplit: true,
      },
      { name: "fails Content-length 65537 with the default limits", wire: "SEND bob\nContent-length: 65537\n\n", error: 103 },
    ]);

    test("refuses an oversize Content-length on the push that ends the header, holding no body bytes", () => {
      const framer = new Framer<Head>(small, decodeClientHead);
      expect(framer.push(bytes(`SEND bob\nContent-length: ${max + 1}\n`), () => {})).toBeUndefined();
      const refused = framer.push(bytes("\n"), () => {});
      expect(refused?.code).toBe(103);
      expect(framer.bufferedBytes).toBe(0);
    });
  });

  describe("errors", () => {
    test("keeps its error: a push after a failure returns the same error and delivers nothing", () => {
      const framer = new Framer<Head>(defaults, decodeClientHead);
      const frames: Head[] = [];
      const first = framer.push(bytes("RECEIVED a\n\nHELLO\n\n"), (head) => frames.push(head));
      expect(first).toBeInstanceOf(ProtocolError);
      expect(first?.code).toBe(103);
      expect(first?.closes).toBe(true);
      expect(frames).toEqual([received("a")]);
      expect(framer.push(bytes("RECEIVED b\n\nSEND bob\nContent-length: 1\n\nx"), (head) => frames.push(head))).toBe(first);
      expect(framer.push(new Uint8Array(0), (head) => frames.push(head))).toBe(first);
      expect(frames).toEqual([received("a")]);
    });

    test("puts a short snippet of the offending bytes in the error detail, not the whole buffer", () => {
      const framer = new Framer<Head>(small, decodeClientHead);
      const refused = framer.push(bytes(`SEND ${"x".repeat(1000)}`), () => {});
      expect(refused?.detail).toContain('"SEND xxx');
      expect(refused?.detail.length).toBeLessThan(120);
    });
  });

  describe("memory", () => {
    test("hands out a view of the chunk for a large body that lies inside it", () => {
      const chunk = bytes("SEND bob\nContent-length: 5000\n\n", "x".repeat(5000));
      const bodies: Uint8Array[] = [];
      new Framer<Head>(defaults, decodeClientHead).push(chunk, (_, body) => bodies.push(body));
      expect(bodies).toHaveLength(1);
      expect(bodies[0]!.buffer).toBe(chunk.buffer);
    });

    test("copies a small body out of the chunk, even from a Buffer, so it pins nothing", () => {
      for (const chunk of [bytes("SEND bob\nContent-length: 5\n\nhello"), Buffer.from("SEND bob\nContent-length: 5\n\nhello")]) {
        const bodies: Uint8Array[] = [];
        new Framer<Head>(defaults, decodeClientHead).push(chunk, (_, body) => bodies.push(body));
        expect(bodies).toHaveLength(1);
        expect(bodies[0]!.buffer).not.toBe(chunk.buffer);
        expect(bodies[0]!.byteLength).toBe(bodies[0]!.buffer.byteLength);
        expect(Buffer.from(bodies[0]!).toString()).toBe("hello");
      }
    });

    test("does not change frames from earlier pushes when later pushes arrive", () => {
      const r = rng(seed);
      const messages = Array.from({ length: 40 }, (_, i) => {
        const body = r.bytes(r.int(30));
        return { to: `user${i}`, body, wire: bytes(`SEND user${i}\nContent-length: ${body.length}\n\n`, body) };
      });
      const wire = bytes(...messages.map((m) => m.wire));
      const framer = new Framer<Head>(defaults, decodeClientHead);
      const kept: { head: Head; body: Uint8Array }[] = []; // deliberately not copied
      let at = 0;
      while (at < wire.length) {
        const next = Math.min(wire.length, at + 1 + r.int(20));
        expect(framer.push(wire.slice(at, next), (head, body) => kept.push({ head, body }))).toBeUndefined();
        at = next;
      }
      expect(kept.map((f) => f.head)).toEqual(messages.map((m) => send(m.to, m.body.length)));
      expect(kept.map((f) => [...f.body])).toEqual(messages.map((m) => [...m.body]));
    });

    test("copies a body that arrives split, so reusing the chunk buffers cannot change it", () => {
      const framer = new Framer<Head>(defaults, decodeClientHead);
      // One read buffer reused for every chunk, like a careless socket reader; 7-byte
      // reads cut both bodies (bytes 29..39 and 68..78), so neither can be a view.
      const read = new Uint8Array(7);
      const wire = bytes("SEND bob\nContent-length: 10\n\n0123456789SEND eve\nContent-length: 10\n\nabcdefghij");
      const kept: Uint8Array[] = [];
      for (let at = 0; at < wire.length; at += read.length) {
        const part = wire.subarray(at, at + read.length);
        read.fill(0xee);
        read.set(part);
        framer.push(read.subarray(0, part.length), (_, body) => kept.push(body));
      }
      read.fill(0xee);
      expect(kept.map((b) => Buffer.from(b).toString("latin1"))).toEqual(["0123456789", "abcdefghij"]);
    });

    test("holds exactly the bytes of a split header, then one buffer of exactly Content-length, then nothing", () => {
      const framer = new Framer<Head>(defaults, decodeClientHead);
      const head = "SEND bob\nContent-length: 10\n\n";
      const wire = bytes(`${head}0123456789`);
      const seen: number[] = [];
      for (let i = 0; i < wire.length; i++) {
        framer.push(wire.subarray(i, i + 1), () => {});
        seen.push(framer.bufferedBytes);
      }
      const headerPart = Array.from({ length: head.length - 1 }, (_, i) => i + 1);
      expect(seen).toEqual([...headerPart, 0, ...Array<number>(9).fill(10), 0]);
    });

    test("holds nothing once it has failed", () => {
      const framer = new Framer<Head>(small, decodeClientHead);
      expect(framer.push(bytes("SEND bob\nX-Pad: "), () => {})).toBeUndefined();
      expect(framer.bufferedBytes).toBe(16);
      expect(framer.push(bytes("p".repeat(small.maxHeaderBytes)), () => {})?.code).toBe(103);
      expect(framer.bufferedBytes).toBe(0);

      const badVerb = new Framer<Head>(small, decodeClientHead);
      expect(badVerb.push(bytes("HEL"), () => {})).toBeUndefined();
      expect(badVerb.bufferedBytes).toBe(3);
      expect(badVerb.push(bytes("LO\n\n"), () => {})?.code).toBe(103);
      expect(badVerb.bufferedBytes).toBe(0);
    });

    test("frames thousands of messages from one chunk", () => {
      const one = "SEND bob\nContent-length: 8\n\n\n\nSEND \nRECEIVED alice\r\n\r\n";
      const count = 5000;
      const result: FeedResult<Head> = runChunks(new Framer<Head>(defaults, decodeClientHead), [bytes(one.repeat(count))]);
      expect(result.error).toBeUndefined();
      expect(result.frames).toHaveLength(2 * count);
      expect(result.frames[2 * count - 2]).toEqual({ head: send("bob", 8), body: bytes("\n\nSEND \n") });
      expect(result.frames[2 * count - 1]).toEqual({ head: received("alice"), body: new Uint8Array(0) });
    });
  });
});
