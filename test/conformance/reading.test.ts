// The kit's lenient reading of what a server writes (src/conformance/reading.ts,
// matching.ts): each lenient reading is named, and anything else is refused
// with why. One row per case, read whole and cut short at every byte.

import { describe, expect, test } from "bun:test";
import type { Deviation } from "../../src/conformance/deviations.ts";
import { match, type Loose } from "../../src/conformance/matching.ts";
import { readLimits, readMessage, type Message } from "../../src/conformance/reading.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function read(text: string, ended = false): Message {
  const result = readMessage(bytes(text), ended);
  if (result.kind !== "message") throw new Error(`not a message: ${JSON.stringify(result)}`);
  return result.message;
}

describe("readMessage", () => {
  test.each<[string, string, number, Deviation[]]>([
    ["a canonical reply", "SENT bob\n\n", 10, []],
    ["a block ended by a line of spaces", "SENT bob\n \t\n", 12, ["space-terminator"]],
    ["trailing spaces on a line", "SENT bob  \n\n", 12, ["trailing-space"]],
    ["CRLF line ends", "SENT bob\r\n\r\n", 12, ["crlf"]],
    ["empty lines before the message", "\r\n\nSENT bob\n\n", 13, ["blank-line"]],
    ["a single \\n before the next message", "SENT bob\nSENT carol\n\n", 9, ["no-empty-line"]],
    ["a body that holds \\n\\n and a verb", "FORWARD a\nContent-length: 12\n\nx\n\nSENT b\n\n\n", 42, []],
  ])("reads %s", (_what, text, size, deviations) => {
    const result = readMessage(bytes(text), false);
    expect(result.kind).toBe("message");
    if (result.kind !== "message") return;
    expect(result.size).toBe(size);
    expect([...result.message.deviations].sort()).toEqual([...deviations].sort());
    // Any shorter prefix is not yet a message: the reader never decides before the bytes are there.
    for (let cut = 0; cut < size; cut++) expect(readMessage(bytes(text).subarray(0, cut), false).kind).toBe("partial");
  });

  test("waits for the empty line, and takes whole lines without it once nothing more comes", () => {
    expect(readMessage(bytes("SENT bob\n"), false)).toEqual({ kind: "partial", firstLine: "SENT bob" });
    expect(readMessage(bytes("SENT b"), true)).toEqual({ kind: "partial", firstLine: undefined });
    expect([...read("SENT bob\n", true).deviations]).toEqual(["no-empty-line"]);
  });

  test("waits for the whole body, and hands back exactly its bytes", () => {
    expect(readMessage(bytes("FORWARD a\nContent-length: 3\n\nhi"), true)).toEqual({ kind: "partial", firstLine: "FORWARD a" });
    expect(new TextDecoder().decode(read("FORWARD a\ncontent-length:3\n\nhi!SENT").body)).toBe("hi!");
  });

  test.each([
    ["a Content-length that is no number", "FORWARD a\nContent-length: 2x\n\nhi", 'Content-length "2x" is not a number'],
    ["two Content-lengths that disagree", "FORWARD a\nContent-length: 1\nContent-length: 2\n\nh", "two different Content-length fields: 1, 2"],
    ["a body over what the kit reads", `FORWARD a\nContent-length: ${readLimits.bodyBytes + 1}\n\n`, `Content-length ${readLimits.bodyBytes + 1}, more than the ${readLimits.bodyBytes} bytes the kit reads`],
    ["a field with no name", "SENT bob\n:x\n\n", 'a header line that is no field: ":x"'],
    ["a header that never ends", "x".repeat(readLimits.headerBytes + 1), `a header block over ${readLimits.headerBytes} bytes`],
  ])("refuses %s, saying why", (_what, text, why) => {
    expect(readMessage(bytes(text), false)).toEqual({ kind: "unreadable", why });
  });
});

describe("match", () => {
  const expected = (text: string) => read(text, true);
  test.each<[string, string, string, Loose, Deviation[]]>([
    ["the same bytes", "SENT bob\n\n", "SENT bob\n\n", {}, []],
    ["SEND for SENT", "SENT bob\n\n", "SEND bob\n\n", {}, ["send-for-sent"]],
    ["SEND ALL for SENT ALL", "SENT ALL\n\n", "SEND ALL\n\n", {}, ["send-for-sent"]],
    ["an ERROR's text in other case", "ERROR 103 Header incomplete\n\n", "ERROR 103 Header Incomplete\n\n", {}, ["error-text"]],
    ["a field name in other case", "FORWARD a\nContent-length: 1\n\nx", "FORWARD a\nContent-Length: 1\n\nx", {}, ["field-spelling"]],
    ["a field without its space", "FORWARD a\nContent-length: 1\n\nx", "FORWARD a\nContent-length:1\n\nx", {}, ["field-spelling"]],
    ["a field nobody asked for", "SENT bob\n\n", "SENT bob\nX-Server: mine\n\n", {}, ["extra-field"]],
    ["any value where the contract leaves it open", "ERROR 102 Unable to send\nReason: offline\n\n", "ERROR 102 Unable to send\nReason: no-such-user\n\n", { Reason: "any-value" }, []],
    ["an optional field left out", "REGISTERED TOSEND a\nExtensions: reasons\nMax-Body-Bytes: 65536\n\n", "REGISTERED TOSEND a\nExtensions: reasons\n\n", { "Max-Body-Bytes": "optional" }, []],
  ])("accepts %s", (_what, want, got, loose, deviations) => {
    const verdict = match(expected(want), read(got, true), loose);
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect([...verdict.deviations].sort()).toEqual([...deviations].sort());
  });

  test.each<[string, string, string, Loose, string]>([
    ["another reply", "SENT bob\n\n", "ERROR 102 Unable to send\n\n", {}, "another message"],
    ["another error code", "ERROR 101 No user registered\n\n", "ERROR 102 No user registered\n\n", {}, "another message"],
    ["SEND for SENT to another name", "SENT bob\n\n", "SEND carol\n\n", {}, "another message"],
    ["a missing field", "ERROR 102 Unable to send\nReason: offline\n\n", "ERROR 102 Unable to send\n\n", { Reason: "any-value" }, "no Reason field"],
    ["another value", "FORWARD a\nContent-length: 1\n\nx", "FORWARD a\nContent-length: 2\n\nxy", {}, 'Content-length "2" where "1" was expected'],
    ["another body", "FORWARD a\nContent-length: 1\n\nx", "FORWARD a\nContent-length: 1\n\ny", {}, "another body"],
  ])("refuses %s", (_what, want, got, loose, why) => {
    expect(match(expected(want), read(got, true), loose)).toEqual({ ok: false, why });
  });
});
