// The flag layer without a process: the real server and client tables read
// from argv and a made-up environment. Flags beat PARLEY_* variables, which
// beat defaults; every misuse is a UsageError pointing at the command's help.

import { describe, expect, expectTypeOf, test } from "bun:test";
import { envName, flagName, helpText, readFlags, UsageError } from "../../src/cli/flags.ts";
import { clientFlags } from "../../src/cli/client.ts";
import { serverFlags } from "../../src/cli/main.ts";
import { Limits, type LimitName } from "../../src/protocol/limits.ts";
import type { LogLevel } from "../../src/core/events.ts";

const server = (args: string[], env: Record<string, string> = {}) => readFlags(serverFlags, args, env, "parley server --help");
const client = (args: string[], env: Record<string, string> = {}) => readFlags(clientFlags, args, env, "parley client --help");

/** The UsageError that `read` throws. */
function usageError(read: () => unknown): UsageError {
  try {
    read();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error("no UsageError");
}

describe("flags", () => {
  test("names each key as a flag and a variable", () => {
    expect(flagName("maxHeaderBytes")).toBe("max-header-bytes");
    expect(envName("maxHeaderBytes")).toBe("PARLEY_MAX_HEADER_BYTES");
    expect(flagName("noReconnect")).toBe("no-reconnect");
    expect(envName("noReconnect")).toBe("PARLEY_NO_RECONNECT");
  });

  test("yields typed options, with no cast at the use site", () => {
    const options = server([]);
    expectTypeOf(options.port).toEqualTypeOf<number>();
    expectTypeOf(options.host).toEqualTypeOf<string>();
    expectTypeOf(options.logLevel).toEqualTypeOf<LogLevel>();
    expectTypeOf(options.maxQueuedBytes).toEqualTypeOf<number>();
    expectTypeOf(options.help).toEqualTypeOf<boolean>();
    const chat = client([]);
    expectTypeOf(chat.user).toEqualTypeOf<string | undefined>();
    expectTypeOf(chat.noReconnect).toEqualTypeOf<boolean>();
  });

  test("defaults every server flag, limits from the limits table", () => {
    const limits = Object.fromEntries((Object.keys(Limits) as LimitName[]).map((name) => [name, Limits[name].default]));
    expect(server([])).toEqual({
      host: "127.0.0.1",
      port: 5050,
      noPlain: false,
      tlsCert: undefined,
      tlsKey: undefined,
      tlsPort: 5443,
      tlsHandshakeTimeoutMs: 10_000,
      httpPort: 5080,
      noHttp: false,
      httpsPort: 5444,
      noHttps: false,
      allowOrigins: [],
      ...limits,
      exemptAddresses: [],
      accounts: undefined,
      requireAccounts: false,
      trustPlaintextPasswordsFrom: expect.any(Array),
      logLevel: "info",
      logFormat: "text",
      help: false,
    } as never);
  });

  test("reads --allow-origins as origins, and refuses anything else in one line", () => {
    expect(server(["--allow-origins", "https://Chat.example.org:443/, http://localhost:8080"]).allowOrigins).toEqual(["https://chat.example.org", "http://localhost:8080"]);
    expect(() => server(["--allow-origins", "chat.example.org"])).toThrow(/origins like/);
  });

  test("reads --exempt-addresses as CIDR ranges, and refuses anything else in one line", () => {
    const exempt = server(["--exempt-addresses", "10.0.0.0/8, ::1,192.168.1.7"]).exemptAddresses;
    expect(exempt.map((range) => [range.family, range.prefix])).toEqual([
      [4, 8],
      [6, 128],
      [4, 32],
    ]);
    expect(() => server(["--exempt-addresses", "10.0.0.0/33"])).toThrow(/CIDR ranges/);
    expect(() => server(["--exempt-addresses", "example.com"])).toThrow(/CIDR ranges/);
  });

  test("defaults every client flag: host and user undefined, switches off", () => {
    expect(client([])).toEqual({
      host: undefined,
      port: undefined,
      tls: false,
      tlsCa: undefined,
      tlsInsecure: false,
      passwordFile: undefined,
      user: undefined,
      listen: false,
      presence: false,
      json: false,
      noReconnect: false,
      maxBodyBytes: 65536,
      compat: false,
      help: false,
    });
  });

  test("reads --host as a host and perhaps a port", () => {
    expect(client(["--host", "127.0.0.1:23050"]).host).toEqual({ host: "127.0.0.1", port: 23050 });
    expect(client(["--host", "[::1]:7"]).host).toEqual({ host: "::1", port: 7 });
    expect(client([], { PARLEY_HOST: "chat.example.org" }).host).toEqual({ host: "chat.example.org", port: undefined });
  });

  describe("precedence: flag over variable over default", () => {
    test.each([
      ["the default", [], {}, 5050],
      ["the variable", [], { PARLEY_PORT: "6000" }, 6000],
      ["the flag over the variable", ["--port", "7000"], { PARLEY_PORT: "6000" }, 7000],
      ["the flag written --port=", ["--port=7001"], { PARLEY_PORT: "6000" }, 7001],
      ["the last of two flags", ["--port", "7000", "--port", "7002"], {}, 7002],
      ["the default when the variable is empty", [], { PARLEY_PORT: "" }, 5050],
    ] as const)("takes %s", (_, args, env, port) => {
      expect(server([...args], env).port).toBe(port);
    });

    test("applies to limits and choices too", () => {
      const options = server(["--max-body-bytes", "10"], { PARLEY_MAX_BODY_BYTES: "20", PARLEY_ACK_TIMEOUT_MS: "30", PARLEY_LOG_LEVEL: "debug" });
      expect([options.maxBodyBytes, options.ackTimeoutMs, options.logLevel]).toEqual([10, 30, "debug"]);
    });

    test("checks a variable even when a flag overrides it", () => {
      expect(usageError(() => server(["--port", "1"], { PARLEY_PORT: "x" })).message).toStartWith("PARLEY_PORT: ");
    });
  });

  describe("switch variables", () => {
    test.each([
      ["1", true],
      ["true", true],
      ["0", false],
      ["false", false],
    ] as const)("read PARLEY_JSON=%s as %p", (value, on) => {
      expect(client([], { PARLEY_JSON: value }).json).toBe(on);
      expect(client([], { PARLEY_LISTEN: value }).listen).toBe(on);
      expect(client([], { PARLEY_NO_RECONNECT: value }).noReconnect).toBe(on);
    });

    test("are overridden by the switch itself", () => {
      expect(client(["--json"], { PARLEY_JSON: "0" }).json).toBe(true);
    });

    test.each(["yes", "on", "TRUE", "2", " 1"])("refuse PARLEY_JSON=%j, naming the variable", (value) => {
      const error = usageError(() => client([], { PARLEY_JSON: value }));
      expect(error.message).toBe(`PARLEY_JSON: expected 1, true, 0 or false, got ${JSON.stringify(value)}`);
      expect(error.help).toBe("parley client --help");
    });

    test("do not include PARLEY_HELP", () => {
      expect(server([], { PARLEY_HELP: "1" }).help).toBe(false);
    });
  });

  test.each([["--help"], ["-h"]])("turns %s on for both commands", (flag) => {
    expect(server([flag]).help).toBe(true);
    expect(client([flag]).help).toBe(true);
  });

  describe("usage errors name the culprit and the command's help", () => {
    test.each([
      [["--colour"], 'unknown argument "--colour"'],
      [["-x"], 'unknown argument "-x"'],
      [["8080"], 'unknown argument "8080"'],
      [["--", "8080"], 'unknown argument "8080"'],
      [["--port"], "--port needs a value"],
      [["--help=yes"], "--help takes no value"],
      [["--port", "abc"], '--port: expected a whole number from 0 to 65535, got "abc"'],
      [["--port", "+80"], '--port: expected a whole number from 0 to 65535, got "+80"'],
      [["--port", "0x50"], '--port: expected a whole number from 0 to 65535, got "0x50"'],
      [["--port", " 80"], '--port: expected a whole number from 0 to 65535, got " 80"'],
      [["--max-body-bytes", "-1"], '--max-body-bytes: expected a whole number from 0 to 67108864, got "-1"'],
      [["--max-queued-bytes", "1".repeat(16)], `--max-queued-bytes: expected a whole number from 1024 to 4294967296, got "${"1".repeat(16)}"`],
      [["--log-level", "loud"], '--log-level: expected one of error, warn, info, debug, got "loud"'],
    ])("server %j: %s", (args, message) => {
      const error = usageError(() => server(args));
      expect(error.message).toBe(message);
      expect(error.help).toBe("parley server --help");
    });

    test.each([
      [["--user"], "--user needs a value"],
      [["--user="], '--user: expected 1 to 32 letters and digits (not ALL), got ""'],
      [["--user", "bad name"], '--user: expected 1 to 32 letters and digits (not ALL), got "bad name"'],
      [["--user", "all"], '--user: expected 1 to 32 letters and digits (not ALL), got "all"'],
      [["--host", "127.0.0.1:99999"], "--host: port 99999 is out of range (1 to 65535)"],
      [["--host", "a b"], '--host: "a b" is not an address; write a host name or host:port, e.g. localhost:5050'],
      [["--max-body-bytes", "67108865"], '--max-body-bytes: expected a whole number from 0 to 67108864, got "67108865"'],
      [["--json=yes"], "--json takes no value"],
      [["--port", "0"], '--port: expected a whole number from 1 to 65535, got "0"'],
      [["--no-json"], 'unknown argument "--no-json"'],
    ])("client %j: %s", (args, message) => {
      const error = usageError(() => client(args));
      expect(error.message).toBe(message);
      expect(error.help).toBe("parley client --help");
    });
  });

  test("helps with each flag's range, default and variable; -h beside --help", () => {
    const help = helpText("Usage: parley server [flags]", serverFlags).split("\n");
    expect(help.find((row) => row.includes("--max-header-bytes"))).toBe(
      "  --max-header-bytes <value>       header block size; over it: ERROR 103 and close (bytes, 64 to 1048576) (default: 8192) [PARLEY_MAX_HEADER_BYTES]",
    );
    expect(help.find((row) => row.includes("--help"))).toBe("  --help, -h                       show this help");
    expect(helpText("Usage: parley client [flags]", clientFlags)).toContain("--json                           one JSON object");
    expect(helpText("Usage: parley client [flags]", clientFlags)).toContain("[PARLEY_NO_RECONNECT]");
  });

  test("says a list's default in words, never as its values printed", () => {
    const help = helpText("Usage: parley server [flags]", serverFlags);
    expect(help).not.toContain("[object Object]");
    expect(help).not.toContain("(default: )");
    expect(help.split("\n").find((row) => row.includes("--trust-plaintext-passwords-from"))).toContain("(default: loopback) [PARLEY_TRUST_PLAINTEXT_PASSWORDS_FROM]");
  });
});
