// Which addresses count as one (docs/protocol.md §6 "Connections"): an IPv4
// address, an IPv6 /64, with `::ffff:a.b.c.d` as `a.b.c.d`; and CIDR ranges
// for the addresses a flag exempts or trusts.

const v4Mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** The key per-address caps count under. */
export function addressKey(address: string): string {
  const mapped = v4Mapped.exec(address);
  if (mapped !== null) return mapped[1]!;
  if (!address.includes(":")) return address;
  const groups = expandIPv6(address);
  return groups === undefined ? address : `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, or undefined if it is not one. */
function expandIPv6(address: string): number[] | undefined {
  const [head = "", tail, extra] = address.split("::");
  if (extra !== undefined) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if ((tail === undefined && missing !== 0) || missing < 0) return undefined;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  return groups.some(Number.isNaN) ? undefined : groups;
}

function ipv4(address: string): number | undefined {
  const parts = address.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export type AddressRange = { readonly family: 4 | 6; readonly bits: bigint; readonly prefix: number };

/** Parses `10.0.0.0/8`, `::1/128` or a bare address; undefined if it is neither. */
export function parseRange(text: string): AddressRange | undefined {
  const [address = "", prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) return undefined;
  const v4 = ipv4(address);
  const family = v4 !== undefined ? 4 : 6;
  const width = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? width : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= width)) return undefined;
  const bits = v4 !== undefined ? BigInt(v4) : toBits(expandIPv6(address));
  return bits === undefined ? undefined : { family, bits, prefix };
}

function toBits(groups: number[] | undefined): bigint | undefined {
  return groups?.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** Whether `address` (as Bun reports a peer) lies in any of `ranges`. */
export function inRanges(address: string, ranges: readonly AddressRange[]): boolean {
  if (ranges.length === 0) return false;
  const mapped = v4Mapped.exec(address);
  const plain = mapped !== null ? mapped[1]! : address;
  const v4 = ipv4(plain);
  const family = v4 !== undefined ? 4 : 6;
  const bits = v4 !== undefined ? BigInt(v4) : toBits(expandIPv6(plain));
  if (bits === undefined) return false;
  const width = family === 4 ? 32n : 128n;
  return ranges.some((range) => range.family === family && bits >> (width - BigInt(range.prefix)) === range.bits >> (width - BigInt(range.prefix)));
}
