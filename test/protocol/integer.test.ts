// One table of integer texts (nats.js protoParseInt tests), run through the
// parser itself, through Content-length on both head decoders, and as a
// number inside a longer buffer, so every user of the rule gives one answer.

import { describe, expect, test } from "bun:test";
import { decodeHotClientHead } from "../../src/protocol/hot-path.ts";
import { maxDigits, maxInteger, parseInteger } from "../../src/protocol/integer.ts";
import { decodeClientHead, decodeServerHead } from "../../src/protocol/messages.ts";
import { ProtocolError } from "../../src/protocol/errors.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

type Row = { text: string; max?: number; value: number | "fails" };

const rows: Row[] = [
  { text: "0", value: 0 },
  { text: "7", value: 7 },
  { text: "00012", value: 12 },
  { text: "000000000000000", value: 0 },
  { text: "9".repeat(15), value: 999_999_999_999_999 },
  { text: "123456789012345", value: 123_456_789_012_345 },
  { text: "1".repeat(16), value: "fails" },
  { text: "0".repeat(16), value: "fails" },
  { text: "+1", value: "fails" },
  { text: "-1", value: "fails" },
  { text: "-0", value: "fails" },
  { text: " 1", value: "fails" },
  { text: "1 ", value: "fails" },
  { text: "1 2", value: "fails" },
  { text: "\t1", value: "fails" },
  { text: "", value: "fails" },
  { text: "0x1", value: "fails" },
  { text: "1e3", value: "fails" },
  { text: "1.0", value: "fails" },
  { text: "1_000", value: "fails" },
  { text: "\u0661", value: "fails" }, // ARABIC-INDIC DIGIT ONE: a digit, but not an ASCII one
  { text: "\uff11", value: "fails" }, // FULLWIDTH DIGIT ONE
  { text: "65535", max: 65535, value: 65535 },
  { text: "65536", max: 65535, value: "fails" },
  { text: "0065536", max: 65535, value: "fails" },
  { text: "1", max: 0, value: "fails" },
  { text: "0", max: 0, value: 0 },
];

const expected = ({ value }: Row) => (value === "fails" ? -1 : value);

describe("integer", () => {
  test("bounds every value by fifteen digits, which stay exact", () => {
    expect(maxDigits).toBe(15);
    expect(maxInteger).toBe(999_999_999_999_999);
    expect(Number.isSafeInteger(maxInteger)).toBe(true);
  });

  test.each(rows)("parses $text (max $max) as $value", (row) => {
    expect(parseInteger(utf8(row.text), row.max ?? maxInteger)).toBe(expected(row));
  });

  test.each(rows)("parses $text (max $max) as $value where it lies inside a longer buffer", (row) => {
    const bytes = utf8(`SEND x\nContent-length:${row.text}\n\n`);
    const start = utf8("SEND x\nContent-length:").length;
    expect(parseInteger(bytes, row.max ?? maxInteger, start, start + utf8(row.text).length)).toBe(expected(row));
  });

  // Spaces and tabs around a header value belong to the header line (PROTOCOL.md §1), not to the number.
  const headerRows = rows.filter((row) => row.max === undefined && !/[ \t]/.test(row.text));

  test.each(headerRows)("gives the same answer for Content-length: $text in the general client decoder", (row) => {
    const head = decodeClientHead(utf8(`SEND bob\r\nContent-length: ${row.text}\r\n\r\n`));
    if (row.value === "fails") expect(head).toBeInstanceOf(ProtocolError);
    else expect(head).toEqual({ verb: "SEND", to: "bob", length: row.value });
  });

  test.each(headerRows)("gives the same answer for Content-length: $text on the hot path", (row) => {
    const head = decodeHotClientHead(utf8(`SEND bob\nContent-length: ${row.text}\n\n`));
    // The hot path declines what it does not accept; the general decoder then rejects it.
    expect(head).toEqual(row.value === "fails" ? undefined : { verb: "SEND", to: "bob", length: row.value });
  });

  test.each(headerRows)("gives the same answer for Content-length: $text in the server-head decoder", (row) => {
    const head = decodeServerHead(utf8(`FORWARD alice\nContent-length: ${row.text}\n\n`));
    if (row.value === "fails") expect(head).toBeInstanceOf(ProtocolError);
    else expect(head).toEqual({ verb: "FORWARD", from: "alice", length: row.value });
  });

  test.each(headerRows)("reads ERROR $text as code $value, or -1", (row) => {
    const head = decodeServerHead(utf8(`ERROR ${row.text} Unable to send\n\n`));
    expect(head).toEqual({ verb: "ERROR", code: expected(row), text: "Unable to send", length: 0 });
  });

  test("refuses a range outside the buffer instead of reading past it", () => {
    const bytes = utf8("12345");
    expect(parseInteger(bytes, maxInteger, 3, 6)).toBe(-1);
    expect(parseInteger(bytes, maxInteger, -1, 2)).toBe(-1);
    expect(parseInteger(bytes, maxInteger, 3, 3)).toBe(-1);
    expect(parseInteger(bytes, maxInteger, 1, 4)).toBe(234);
  });
});
