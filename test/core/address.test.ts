// Which addresses count as one (docs/protocol.md §6 "Connections"), and CIDR ranges.

import { describe, expect, test } from "bun:test";
import { addressKey, inRanges, parseRange, type AddressRange } from "../../src/core/address.ts";

const ranges = (...texts: string[]) => texts.map((text) => parseRange(text)!) as AddressRange[];

describe("addressKey", () => {
  test.each([
    ["127.0.0.2", "127.0.0.2"],
    ["::ffff:127.0.0.2", "127.0.0.2"],
    ["::FFFF:10.1.2.3", "10.1.2.3"],
    ["2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"],
    ["2001:db8:1:2:bbbb:cccc:dddd:eeee", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
  ])("counts %s as %s", (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  test("puts two addresses of one IPv6 /64 together and two /64s apart", () => {
    expect(addressKey("2001:db8:0:1::5")).toBe(addressKey("2001:db8:0:1:ffff::9"));
    expect(addressKey("2001:db8:0:1::5")).not.toBe(addressKey("2001:db8:0:2::5"));
  });
});

describe("ranges", () => {
  test("parses IPv4 and IPv6 ranges and bare addresses, and refuses anything else", () => {
    expect(parseRange("10.0.0.0/8")).toEqual({ family: 4, bits: 10n << 24n, prefix: 8 });
    expect(parseRange("::1")).toEqual({ family: 6, bits: 1n, prefix: 128 });
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "256.0.0.1", "::1/129", "host.example", "1.2.3.4/8/9", "::1::2"]) {
      expect(parseRange(bad), bad).toBeUndefined();
    }
  });

  test("matches addresses inside a range, mapped IPv4 included, and nothing outside", () => {
    const exempt = ranges("127.0.0.0/8", "2001:db8::/32");
    expect(inRanges("127.0.0.9", exempt)).toBe(true);
    expect(inRanges("::ffff:127.1.2.3", exempt)).toBe(true);
    expect(inRanges("2001:db8:ffff::1", exempt)).toBe(true);
    expect(inRanges("128.0.0.1", exempt)).toBe(false);
    expect(inRanges("2001:db9::1", exempt)).toBe(false);
    expect(inRanges("127.0.0.1", [])).toBe(false);
    expect(inRanges("0.0.0.0", ranges("0.0.0.0/0"))).toBe(true);
  });
});
