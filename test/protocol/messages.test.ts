// The codec from one row per message (mqtt-packet testParseGenerate): parse the
// wire into a head and body, encode the head and body back into the wire, and
// mirror (decode what the encoder wrote).

import { describe, expect, test } from "bun:test";
import { ascii } from "../../src/protocol/ascii.ts";
import { encodeError, ErrorCode, errorText, ProtocolError } from "../../src/protocol/errors.ts";
import { Framer } from "../../src/protocol/framer.ts";
import { defaultLimits } from "../../src/protocol/limits.ts";
import {
  decodeClientHead,
  parseClientHead,
  decodeServerHead,
  encodeForward,
  encodeForwardHead,
  encodeReceived,
  encodeRegister,
  encodeRegistered,
  encodeSend,
  encodeSendHead,
  encodeSent,
  Role,
  type ClientHead,
  type HeadDecoder,
  type ServerHead,
} from "../../src/protocol/messages.ts";
import { decodeUsers, encodePresence, encodeUsers, resync, who } from "../../src/protocol/presence.ts";

const utf8 = new TextEncoder();

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("latin1");
}

/** The one frame in `wire`, through a real framer so the body is read too. */
function parse<H extends { readonly length: number }>(decode: HeadDecoder<H>, wire: Uint8Array): { head: H; body: string } | ProtocolError {
  const frames: { head: H; body: string }[] = [];
  const error = new Framer<H>(defaultLimits, decode).push(wire, (head, body) => frames.push({ head, body: text(body) }));
  if (error !== undefined) return error;
  if (frames.length !== 1) throw new Error(`expected one frame, got ${frames.length}`);
  return frames[0]!;
}

function isErrorHead(head: ClientHead | ServerHead): head is Extract<ClientHead, { verb: "ERROR" }> {
  return head.verb === "ERROR";
}

function encodeErrorHead(head: { code: number }): Uint8Array {
  if (!Object.values(ErrorCode).includes(head.code as ErrorCode)) throw new RangeError(`no encoder for ERROR ${head.code}`);
  return encodeError(head.code as ErrorCode);
}

/** The encoder a client uses for each head it sends. */
function encodeClient(head: ClientHead, body: Uint8Array): Uint8Array {
  if (isErrorHead(head)) return encodeErrorHead(head);
  switch (head.verb) {
    case "REGISTER":
      return encodeRegister(head.role, head.name);
    case "SEND":
      return encodeSend(head.to, body);
    case "RECEIVED":
      return encodeReceived(head.from);
    case "WHO":
      return who;
  }
}

/** The encoder the server uses for each head it sends. */
function encodeServer(head: ServerHead, body: Uint8Array): Uint8Array {
  if (isErrorHead(head)) return encodeErrorHead(head);
  switch (head.verb) {
    case "REGISTERED":
      return encodeRegistered(head.role, head.name);
    case "SENT":
      return encodeSent(head.to);
    case "FORWARD":
      return encodeForward(head.from, body);
    case "USERS":
      return encodeUsers(decodeUsers(body), defaultLimits.maxBodyBytes);
    case "ONLINE":
    case "OFFLINE":
      return encodePresence(head.name, head.verb === "ONLINE");
    case "RESYNC":
      return resync;
  }
}

type Row<H> = { wire: string; head: H; body?: string };

function mirror<H extends ClientHead | ServerHead>(decode: HeadDecoder<H>, encode: (head: H, body: Uint8Array) => Uint8Array, rows: Row<H>[]): void {
  for (const row of rows) {
    const wire = utf8.encode(row.wire);
    const body = utf8.encode(row.body ?? "");
    describe(JSON.stringify(row.wire), () => {
      test("parses into its head and body", () => {
        expect(parse(decode, wire)).toEqual({ head: row.head, body: text(body) });
      });
      test("encodes from its head and body into the same bytes", () => {
        expect(text(encode(row.head, body))).toBe(text(wire));
      });
      test("decodes what the encoder wrote back into the head", () => {
        expect(parse(decode, encode(row.head, body))).toEqual({ head: row.head, body: text(body) });
      });
    });
  }
}

const errorRows = Object.entries(errorText).map(([code, message]) => ({
  wire: `ERROR ${code} ${message}\n\n`,
  head: { verb: "ERROR" as const, code: Number(code), text: message, length: 0 },
}));

describe("messages", () => {
  describe("client messages mirror", () => {
    const hello = "hello\n\nSEND eve\nContent-length: 1\n\n!";
    mirror<ClientHead>(decodeClientHead, encodeClient, [
      { wire: "REGISTER TOSEND alice\n\n", head: { verb: "REGISTER", role: "TOSEND", name: "alice", length: 0 } },
      { wire: "REGISTER TORECV Bob42\n\n", head: { verb: "REGISTER", role: "TORECV", name: "Bob42", length: 0 } },
      { wire: "SEND bob\nContent-length: 0\n\n", head: { verb: "SEND", to: "bob", length: 0 } },
      { wire: `SEND ALL\nContent-length: ${hello.length}\n\n${hello}`, head: { verb: "SEND", to: "ALL", length: hello.length }, body: hello },
      { wire: "SEND bob\nContent-length: 6\n\nhé!!!", head: { verb: "SEND", to: "bob", length: 6 }, body: "hé!!!" },
      { wire: "RECEIVED alice\n\n", head: { verb: "RECEIVED", from: "alice", length: 0 } },
      { wire: "WHO\n\n", head: { verb: "WHO", length: 0 } },
      errorRows.find((r) => r.head.code === ErrorCode.HeaderIncomplete)!,
    ]);
  });

  describe("server messages mirror", () => {
    mirror<ServerHead>(decodeServerHead, encodeServer, [
      { wire: "REGISTERED TOSEND alice\n\n", head: { verb: "REGISTERED", role: "TOSEND", name: "alice", length: 0 } },
      { wire: "REGISTERED TORECV alice\n\n", head: { verb: "REGISTERED", role: "TORECV", name: "alice", length: 0 } },
      { wire: "SENT bob\n\n", head: { verb: "SENT", to: "bob", length: 0 } },
      { wire: "SENT ALL\n\n", head: { verb: "SENT", to: "ALL", length: 0 } },
      { wire: "FORWARD alice\nContent-length: 5\n\nhello", head: { verb: "FORWARD", from: "alice", length: 5 }, body: "hello" },
      { wire: "FORWARD alice\nContent-length: 0\n\n", head: { verb: "FORWARD", from: "alice", length: 0 } },
      { wire: "USERS 2\nContent-length: 10\n\nalice\nBob\n", head: { verb: "USERS", total: 2, length: 10 }, body: "alice\nBob\n" },
      { wire: "USERS 0\nContent-length: 0\n\n", head: { verb: "USERS", total: 0, length: 0 } },
      { wire: "ONLINE alice\n\n", head: { verb: "ONLINE", name: "alice", length: 0 } },
      { wire: "OFFLINE Bob\n\n", head: { verb: "OFFLINE", name: "Bob", length: 0 } },
      { wire: "RESYNC\n\n", head: { verb: "RESYNC", length: 0 } },
      ...errorRows,
    ]);
  });

  describe("head encoders", () => {
    test("encodeSendHead followed by the body is encodeSend", () => {
      const body = utf8.encode("a\n\nb");
      expect(text(encodeSendHead("bob", body.length))).toBe("SEND bob\nContent-length: 4\n\n");
      expect(text(encodeSend("bob", body))).toBe(`${text(encodeSendHead("bob", 4))}a\n\nb`);
    });

    test("encodeForwardHead followed by the body is encodeForward", () => {
      const body = new Uint8Array([0, 0xff, 10]);
      expect(text(encodeForwardHead("alice", 3))).toBe("FORWARD alice\nContent-length: 3\n\n");
      expect([...encodeForward("alice", body)]).toEqual([...encodeForwardHead("alice", 3), 0, 0xff, 10]);
    });

    test("encoders write bare \\n line endings only", () => {
      for (const wire of [encodeRegister(Role.ToSend, "a"), encodeRegistered(Role.ToRecv, "a"), encodeSendHead("a", 1), encodeSent("a"), encodeForwardHead("a", 1), encodeReceived("a"), encodeError(ErrorCode.UnableToSend)]) {
        expect(text(wire)).not.toContain("\r");
        expect(text(wire).endsWith("\n\n")).toBe(true);
      }
    });
  });

  describe("decoding", () => {
    const errorArgs: [string, number, string][] = [
      ["ERROR 103 Header incomplete", 103, "Header incomplete"],
      ["ERROR 102", 102, ""],
      ["ERROR 999 Something else entirely", 999, "Something else entirely"],
      ["ERROR 104 Username taken  \t", 104, "Username taken"],
      ["ERROR", -1, ""],
      ["ERROR abc def", -1, "def"],
      ["ERROR -1 negative", -1, "negative"],
      ["ERROR +103 signed", -1, "signed"],
      ["ERROR 1234567890123456 sixteen digits", -1, "sixteen digits"],
    ];
    for (const [line, code, message] of errorArgs) {
      test(`reads ${JSON.stringify(line)} as code ${code} with text ${JSON.stringify(message)} on both sides`, () => {
        const block = utf8.encode(`${line}\n\n`);
        expect(decodeClientHead(block)).toEqual({ verb: "ERROR", code, text: message, length: 0 });
        expect(decodeServerHead(block)).toEqual({ verb: "ERROR", code, text: message, length: 0 });
      });
    }

    test("refuses REGISTER with an unknown role as 103", () => {
      for (const line of ["REGISTER TOBOTH alice", "REGISTER tosend alice", "REGISTER", "REGISTER  TOSEND alice"]) {
        const head = decodeClientHead(ascii(`${line}\n\n`));
        expect(head, line).toBeInstanceOf(ProtocolError);
        expect((head as ProtocolError).code, line).toBe(103);
      }
    });

    test("reads the server's body limit from REGISTERED's Max-Body-Bytes, and ignores one that is not a number (docs/protocol.md D49)", () => {
      expect(decodeServerHead(ascii("REGISTERED TOSEND al\nExtensions: reasons\nmax-body-bytes:  1000 \n\n"))).toEqual({ verb: "REGISTERED", role: "TOSEND", name: "al", length: 0, extensions: ["reasons"], maxBodyBytes: 1000 });
      expect(decodeServerHead(ascii("REGISTERED TOSEND al\nExtensions:\nMax-Body-Bytes: lots\n\n"))).toEqual({ verb: "REGISTERED", role: "TOSEND", name: "al", length: 0, extensions: [] });
      expect(decodeServerHead(ascii("REGISTERED TOSEND al\nMax-Body-Bytes: 5\nContent-length: 0\n\n"))).toEqual({ verb: "REGISTERED", role: "TOSEND", name: "al", length: 0, maxBodyBytes: 5 });
    });

    test("decodes REGISTER TOSEND with no name as name \"\", leaving ERROR 100 to the server", () => {
      expect(decodeClientHead(ascii("REGISTER TOSEND\n\n"))).toEqual({ verb: "REGISTER", role: "TOSEND", name: "", length: 0 });
      expect(decodeClientHead(ascii("REGISTER TORECV \n\n"))).toEqual({ verb: "REGISTER", role: "TORECV", name: "", length: 0 });
    });

    test("keeps everything after the role as the name, for the server's username rule to judge", () => {
      expect(decodeClientHead(ascii("REGISTER TOSEND alice bob\n\n"))).toEqual({ verb: "REGISTER", role: "TOSEND", name: "alice bob", length: 0 });
    });

    test("decodes RECEIVED with no name as from \"\"", () => {
      expect(decodeClientHead(ascii("RECEIVED\n\n"))).toEqual({ verb: "RECEIVED", from: "", length: 0 });
    });

    test("decodes SENT with no name as to \"\"", () => {
      expect(decodeServerHead(ascii("SENT\n\n"))).toEqual({ verb: "SENT", to: "", length: 0 });
    });

    test("returns errors as values with code 103, never throws", () => {
      for (const block of ["HELLO\n\n", "\n\n", "SEND\nContent-length: 1\n\n", "SEND a\nbad line\n\n", "FORWARD a\n\n"]) {
        const decode = block.startsWith("FORWARD") ? decodeServerHead : decodeClientHead;
        const head = decode(ascii(block));
        expect(head, block).toBeInstanceOf(ProtocolError);
        expect((head as ProtocolError).code, block).toBe(103);
      }
    });
  });

  describe("ascii", () => {
    test("encodes printable ASCII and \\n one byte per character", () => {
      expect([...ascii(" ~A\n")]).toEqual([0x20, 0x7e, 0x41, 0x0a]);
    });

    for (const [what, bad] of [
      ["\\r", "SEND bob\r\n"],
      ["a tab", "SEND\tbob"],
      ["NUL", "SEND bob\0"],
      ["DEL", "SEND bob\x7f"],
      ["an escape", "\x1b[2J"],
      ["é", "SEND bé"],
      ["a latin1 byte", "SEND b\xff"],
      ["an emoji", "SEND 👋"],
    ] as const) {
      test(`throws on ${what}`, () => {
        expect(() => ascii(bad)).toThrow(RangeError);
      });
    }

    test("makes an encoder throw rather than write a name that is not ASCII", () => {
      expect(() => encodeRegister(Role.ToSend, "bób")).toThrow(RangeError);
      expect(() => encodeSent("a\rb")).toThrow(RangeError);
    });
  });
});

describe("the stable reason of each refusal", () => {
  const rows: [string, string][] = [
    ["\n\n", "empty-first-line"],
    ["SEND bob\nno colon here\n\n", "bad-header-line"],
    ["SEND bob\nContent-length: -1\n\n", "bad-content-length"],
    ["SEND bob\nContent-length: 1\nContent-length: 2\n\n", "conflicting-content-length"],
    ["SEND\nContent-length: 1\n\n", "missing-recipient"],
    ["SEND bob\n\n", "missing-content-length"],
    ["REGISTER TOSPEAK bob\n\n", "unknown-role"],
    ["HELLO bob\n\n", "unknown-verb"],
  ];
  for (const [wire, reason] of rows) {
    test(`refuses ${JSON.stringify(wire)} as ${reason}`, () => {
      const head = parseClientHead(new TextEncoder().encode(wire));
      expect(head).toBeInstanceOf(ProtocolError);
      expect((head as ProtocolError).reason).toBe(reason as never);
    });
  }
});
