// The one decimal-integer rule of parley (docs/protocol.md D3): 1 to 15 ASCII
// digits, leading zeros allowed, no sign, no space, no 0x, and at most a bound.
// Content-length, ERROR codes and every numeric CLI flag go through it.

/** Fifteen digits keep every value an exact integer: 10^15 - 1 < 2^53 (nats.js protoParseInt). */
export const maxDigits = 15;

/** The largest value `maxDigits` digits can spell: the bound when no smaller one applies. */
export const maxInteger = 10 ** maxDigits - 1;

/**
 * The value of `codes[start, end)` if it is 1 to 15 ASCII digits and at most `max`, else -1.
 * Header bytes are parsed where they lie, without a copy; text goes in as its UTF-8 bytes,
 * where anything but ASCII is bytes over 0x7f and so never a digit.
 */
export function parseInteger(codes: ArrayLike<number>, max: number, start = 0, end = codes.length): number {
  if (end - start < 1 || end - start > maxDigits || start < 0 || end > codes.length) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = codes[i]!;
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
  }
  return value <= max ? value : -1;
}
