// The error table of PROTOCOL.md §2: each code's exact wire text, which ones
// close the connection, ProtocolError's own wire reply, and log snippets.

import { describe, expect, test } from "bun:test";
import { encodeError, errorCloses, ErrorCode, errorText, isErrorCode, ProtocolError, snippet, ProtocolReason } from "../../src/protocol/errors.ts";

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("latin1");

// Copied from docs/protocol.md §2 and §6-7, byte for byte.
const wire: [ErrorCode, string][] = [
  [100, "ERROR 100 Malformed username\n\n"],
  [101, "ERROR 101 No user registered\n\n"],
  [102, "ERROR 102 Unable to send\n\n"],
  [103, "ERROR 103 Header incomplete\n\n"],
  [104, "ERROR 104 Username taken\n\n"],
  [105, "ERROR 105 Not authorized\n\n"],
  [106, "ERROR 106 Server busy\n\n"],
];

describe("errors", () => {
  test("names the seven codes of the protocol", () => {
    expect(ErrorCode).toEqual({
      MalformedUsername: 100,
      NoUserRegistered: 101,
      UnableToSend: 102,
      HeaderIncomplete: 103,
      UsernameTaken: 104,
      NotAuthorized: 105,
      ServerBusy: 106,
    });
    expect(Object.keys(errorText).map(Number)).toEqual([100, 101, 102, 103, 104, 105, 106]);
  });

  for (const [code, text] of wire) {
    test(`writes ${code} as ${JSON.stringify(text)}`, () => {
      expect(latin1(encodeError(code))).toBe(text);
      expect(latin1(new ProtocolError(code, "detail", ProtocolReason.Internal).toWire())).toBe(text);
    });
  }

  test("closes the connection after 103 only", () => {
    expect(Object.entries(errorCloses).filter(([, closes]) => closes).map(([code]) => Number(code))).toEqual([103]);
    for (const [code] of wire) expect(new ProtocolError(code, "x", ProtocolReason.Internal).closes, `${code}`).toBe(code === ErrorCode.HeaderIncomplete);
  });

  test("knows which numbers are error codes", () => {
    for (const [code] of wire) expect(isErrorCode(code)).toBe(true);
    for (const code of [0, 99, 107, 103.5, -103, 200]) expect(isErrorCode(code), `${code}`).toBe(false);
  });

  test("makes ProtocolError a named Error with its code and detail, and keeps the detail off the wire", () => {
    const error = new ProtocolError(ErrorCode.HeaderIncomplete, "unknown verb \"HELLO\"", ProtocolReason.UnknownVerb);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ProtocolError");
    expect(error.code).toBe(103);
    expect(error.reason).toBe("unknown-verb");
    expect(error.detail).toBe("unknown verb \"HELLO\"");
    expect(error.message).toBe("103 Header incomplete: unknown verb \"HELLO\"");
    expect(latin1(error.toWire())).not.toContain("HELLO");
  });

  describe("snippet", () => {
    test("quotes printable ASCII as it is", () => {
      expect(snippet(new TextEncoder().encode("SEND bob"))).toBe('"SEND bob"');
    });

    test("escapes control bytes, non-ASCII bytes, quotes and backslashes as \\xNN", () => {
      expect(snippet(new Uint8Array([0x0a, 0x0d, 0x00, 0x7f, 0xff, 0x22, 0x5c, 0x41]))).toBe('"\\x0a\\x0d\\x00\\x7f\\xff\\x22\\x5cA"');
    });

    test("truncates past max bytes and marks it with ...", () => {
      const bytes = new TextEncoder().encode("x".repeat(100));
      expect(snippet(bytes)).toBe(`"${"x".repeat(32)}..."`);
      expect(snippet(bytes, 5)).toBe('"xxxxx..."');
    });

    test("does not mark a snippet of exactly max bytes as truncated", () => {
      expect(snippet(new TextEncoder().encode("x".repeat(32)))).toBe(`"${"x".repeat(32)}"`);
      expect(snippet(new Uint8Array(0))).toBe('""');
    });
  });
});
