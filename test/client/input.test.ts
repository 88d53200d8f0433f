import { describe, expect, test } from "bun:test";
import { parseAddress, parseLine, type Command } from "../../src/client/input.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("parseLine", () => {
  const messages: { line: string; to: string; text: string }[] = [
    { line: "@bob hello", to: "bob", text: "hello" },
    { line: "@ALL hi everyone", to: "ALL", text: "hi everyone" },
    { line: "@all hi", to: "ALL", text: "hi" }, // docs/protocol.md §6: ALL in any case is everyone
    { line: "@aLl hi", to: "ALL", text: "hi" },
    { line: "  @bob hi", to: "bob", text: "hi" },
    { line: "@bob\thi", to: "bob", text: "hi" },
    { line: "@bob  two  spaces ", to: "bob", text: " two  spaces " },
    { line: "@Bob42 @carol is here", to: "Bob42", text: "@carol is here" },
    { line: `@${"a".repeat(32)} x`, to: "a".repeat(32), text: "x" },
    { line: "@bob héllo wörld 👋 中文", to: "bob", text: "héllo wörld 👋 中文" },
  ];
  for (const { line, to, text } of messages) {
    test(`reads ${JSON.stringify(line)} as a message to ${to}`, () => {
      const command = parseLine(line);
      expect(command).toEqual({ kind: "message", to, text, body: utf8(text) });
    });
  }

  test("makes the body the UTF-8 bytes, so Content-length counts bytes, not characters", () => {
    const command = parseLine("@bob é👋") as Extract<Command, { kind: "message" }>;
    expect(command.text.length).toBe(3); // é + a surrogate pair
    expect(command.body.length).toBe(2 + 4);
    expect(Array.from(command.body)).toEqual([0xc3, 0xa9, 0xf0, 0x9f, 0x91, 0x8b]);
  });

  const hints: { line: string; says: string }[] = [
    { line: "hello", says: "@name message" },
    { line: "bob hello", says: "@name message" },
    { line: "@", says: "a name must follow" },
    { line: "@ hello", says: "a name must follow" },
    { line: "@bob", says: "nothing to send" },
    { line: "@bob    ", says: "nothing to send" },
    { line: "@bo-b hi", says: "is not a username" },
    { line: "@bob! hi", says: "is not a username" },
    { line: `@${"a".repeat(33)} hi`, says: "is not a username" },
    { line: "@bøb hi", says: "is not a username" },
    { line: "/nope", says: "unknown command" },
    { line: "/", says: "unknown command" },
  ];
  for (const { line, says } of hints) {
    test(`answers ${JSON.stringify(line)} with a one-line hint and nothing to send`, () => {
      const command = parseLine(line);
      expect(command.kind).toBe("invalid");
      const hint = (command as Extract<Command, { kind: "invalid" }>).hint;
      expect(hint).toContain(says);
      expect(hint).not.toContain("\n");
    });
  }

  test("reads /help, /quit and /exit as commands", () => {
    expect(parseLine("/help")).toEqual({ kind: "help" });
    expect(parseLine("  /help  ")).toEqual({ kind: "help" });
    expect(parseLine("/quit")).toEqual({ kind: "quit" });
    expect(parseLine("/exit")).toEqual({ kind: "quit" });
  });

  test("reads an empty or blank line as nothing", () => {
    expect(parseLine("")).toEqual({ kind: "empty" });
    expect(parseLine(" \t ")).toEqual({ kind: "empty" });
  });
});

describe("parseAddress", () => {
  const fallback = { host: "localhost", port: 5050 };
  const rows: { text: string; want: { host: string; port: number } }[] = [
    { text: "", want: fallback },
    { text: "  ", want: fallback },
    { text: "example.org", want: { host: "example.org", port: 5050 } },
    { text: "127.0.0.1:6000", want: { host: "127.0.0.1", port: 6000 } },
    { text: " chat.example.org:7 ", want: { host: "chat.example.org", port: 7 } },
    { text: "[::1]:6000", want: { host: "::1", port: 6000 } },
    { text: "[::1]", want: { host: "::1", port: 5050 } },
    { text: "::1", want: { host: "::1", port: 5050 } },
    { text: "fe80::1:2", want: { host: "fe80::1:2", port: 5050 } },
    // Half an address: the port, on the host the prompt offered.
    { text: ":23999", want: { host: "localhost", port: 23999 } },
  ];
  for (const { text, want } of rows) {
    test(`reads ${JSON.stringify(text)}`, () => {
      expect(parseAddress(text, fallback)).toEqual(want);
    });
  }

  test("takes :port on an IPv6 host the prompt offered", () => {
    expect(parseAddress(":6000", { host: "::1", port: 5050 })).toEqual({ host: "::1", port: 6000 });
  });

  for (const text of ["host:99999", "host:0", "two words", "host:port", "host:", ":", ":0", ":x"]) {
    test(`refuses ${JSON.stringify(text)} with an explanation`, () => {
      const result = parseAddress(text, fallback);
      expect("error" in result).toBe(true);
    });
  }
});
