import { describe, expect, test } from "bun:test";
import { bodyText, escapeText, formatJson, formatNotice, formatOutcome, formatReceived, failureText, reasonText } from "../../src/client/render.ts";
import type { FailReason } from "../../src/client/outcome.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const plain = { color: false };
const colored = { color: true };

/** The colour codes render.ts itself adds; anything else starting with ESC would be an injected sequence. */
const ownColors = /\x1b\[(?:0|1|2|31|32|36)m/g;

function assertInert(output: string): void {
  expect(output.replace(ownColors, "")).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
}

describe("escapeText", () => {
  const rows: { name: string; input: string; shown: string }[] = [
    { name: "an SGR colour sequence", input: "\x1b[31mred\x1b[0m", shown: "\\x1b[31mred\\x1b[0m" },
    { name: "a screen clear and cursor move", input: "\x1b[2J\x1b[H", shown: "\\x1b[2J\\x1b[H" },
    { name: "an OSC window title ended by BEL", input: "\x1b]0;pwned\x07", shown: "\\x1b]0;pwned\\x07" },
    { name: "an 8-bit CSI (C1)", input: "\u009b31m", shown: "\\x9b31m" },
    { name: "newline, carriage return and tab", input: "a\nb\rc\td", shown: "a\\nb\\rc\\td" },
    { name: "NUL, backspace and DEL", input: "\x00\x08\x7f", shown: "\\x00\\x08\\x7f" },
    { name: "a right-to-left override", input: "abc\u202edef", shown: "abc\\u{202e}def" },
    { name: "bidi isolates", input: "\u2066x\u2069", shown: "\\u{2066}x\\u{2069}" },
    { name: "a line separator", input: "a\u2028b", shown: "a\\u{2028}b" },
  ];
  for (const { name, input, shown } of rows) {
    test(`shows ${name} escaped`, () => {
      expect(escapeText(input)).toBe(shown);
    });
  }

  test("leaves printable text, accents, CJK and emoji alone", () => {
    const text = "héllo wörld 中文 👋 \\x1b is fine";
    expect(escapeText(text)).toBe(text);
  });
});

describe("bodyText", () => {
  test("decodes UTF-8 and escapes what is unsafe", () => {
    expect(bodyText(utf8("hi \x1b[1mthere\x1b[0m ✓"))).toBe("hi \\x1b[1mthere\\x1b[0m ✓");
  });

  test("shows invalid UTF-8 as U+FFFD instead of failing", () => {
    expect(bodyText(new Uint8Array([0x61, 0xff, 0xc3, 0x62]))).toBe("a\ufffd\ufffdb");
  });
});

describe("formatReceived", () => {
  test("prints [name] text", () => {
    expect(formatReceived("alice", utf8("hello"), plain)).toBe("[alice] hello");
  });

  test("never lets a hostile name or body reach the terminal raw, with or without colour", () => {
    const name = "ev\x1b[8mil";
    const body = utf8("\x1b[2J\x1b]0;title\x07\u009b6n\r[admin] fake line\u202e");
    const withoutColor = formatReceived(name, body, plain);
    expect(withoutColor).not.toContain("\x1b");
    assertInert(withoutColor);
    assertInert(formatReceived(name, body, colored));
    expect(withoutColor).toBe("[ev\\x1b[8mil] \\x1b[2J\\x1b]0;title\\x07\\x9b6n\\r[admin] fake line\\u{202e}");
  });

  test("adds colour only when asked", () => {
    expect(formatReceived("alice", utf8("hi"), colored)).toContain("\x1b[");
    expect(formatReceived("alice", utf8("hi"), plain)).not.toContain("\x1b");
  });
});

describe("formatOutcome", () => {
  test("says delivered", () => {
    expect(formatOutcome({ kind: "delivered", to: "bob" }, "hello", plain)).toBe("delivered: @bob hello");
  });

  test("says not delivered, with the reason in words, for every reason", () => {
    for (const reason of Object.keys(reasonText) as FailReason[]) {
      const line = formatOutcome({ kind: "failed", to: "bob", reason }, "hello", plain);
      expect(line).toBe(`not delivered: @bob hello (${reasonText[reason]})`);
    }
  });

  test("shortens a long message and escapes it", () => {
    const line = formatOutcome({ kind: "delivered", to: "bob" }, `\x1b${"x".repeat(100)}`, plain);
    expect(line.length).toBeLessThan(90);
    expect(line).toEndWith("...");
    expect(line).not.toContain("\x1b");
  });

  test("colours only when asked", () => {
    expect(formatOutcome({ kind: "failed", to: "bob", reason: "unable-to-send" }, "x", colored)).toContain("\x1b[31m");
    expect(formatNotice("note", plain)).toBe("note");
  });
});

describe("formatJson", () => {
  test("writes one line of valid JSON that round-trips", () => {
    const event = { event: "received", from: "alice", text: "a\nb\x1b[31m\u009b\u2028\u202e ✓" };
    const line = formatJson(event);
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toEqual(event);
  });

  test("escapes C1, separators and bidi controls that JSON.stringify leaves raw", () => {
    const line = formatJson({ text: "\u009b\u2028\u202e\u2066" });
    expect(line).toBe('{"text":"\\u009b\\u2028\\u202e\\u2066"}');
    assertInert(line);
  });
});

describe("the server's reasons", () => {
  test("are said in words, and an unknown one as it came, escaped", () => {
    const failed = (because?: string) => ({ kind: "failed", to: "bob", reason: "unable-to-send", because }) as const;
    expect(failureText(failed())).toBe("not online, or did not confirm it");
    expect(failureText(failed("offline"))).toBe("not online");
    expect(failureText(failed("rate-limited"))).toBe("you are sending faster than the server allows");
    expect(failureText(failed("gremlins\x1b[2J"))).not.toContain("\x1b");
  });
});
