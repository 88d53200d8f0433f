import { describe, expect, test } from "bun:test";
import { isLoopbackHost } from "../../src/protocol/password.ts";

describe("isLoopbackHost", () => {
  test("is this machine by name or address: localhost, 127.0.0.0/8 and ::1", () => {
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"]) expect(isLoopbackHost(host), host).toBe(true);
  });

  test("is no other host, however it is spelled", () => {
    for (const host of ["chat.example.org", "10.0.0.1", "0.0.0.0", "128.0.0.1", "127.0.0.1.example.org", "localhost.example.org", "::2", ""]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});
