// The two header blocks a busy server reads all the time, `SEND <name>\n
// Content-length: <n>\n\n` and `RECEIVED <name>\n\n`, decoded straight from the
// bytes. Anything the least bit unusual returns undefined and takes the general
// decoder, which is the definition; test/protocol/hot-path.test.ts holds the two
// to the same answers.

import { maxInteger, parseInteger } from "./integer.ts";

/** The heads decoded here: a subset of messages.ts `ClientHead`, declared here so that this module needs nothing from messages.ts. */
export type HotClientHead =
  | { readonly verb: "SEND"; readonly to: string; readonly length: number }
  | { readonly verb: "RECEIVED"; readonly from: string; readonly length: number };

const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const SEND_ = [0x53, 0x45, 0x4e, 0x44, 0x20]; // "SEND "
const RECEIVED_ = [0x52, 0x45, 0x43, 0x45, 0x49, 0x56, 0x45, 0x44, 0x20]; // "RECEIVED "
const contentLength = [0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d, 0x6c, 0x65, 0x6e, 0x67, 0x74, 0x68, 0x3a]; // "content-length:"

/** Decodes `block[start, stop)` if it is one of the two common shapes. */
export function decodeHotClientHead(block: Uint8Array, start = 0, stop = block.length): HotClientHead | undefined {
  if (stop - start < 12 || block[stop - 1] !== LF || block[stop - 2] !== LF) return undefined;
  if (startsWith(block, start, SEND_)) return decodeSend(block, start + SEND_.length, stop);
  if (startsWith(block, start, RECEIVED_)) {
    const from = start + RECEIVED_.length;
    const end = nameEnd(block, from);
    if (end === from || end + 2 !== stop) return undefined;
    return { verb: "RECEIVED", from: internName(block, from, end), length: 0 };
  }
  return undefined;
}

function decodeSend(block: Uint8Array, from: number, stop: number): HotClientHead | undefined {
  const end = nameEnd(block, from);
  if (end === from || block[end] !== LF) return undefined;
  let i = end + 1;
  for (const expected of contentLength) {
    const c = block[i++]!;
    // Only letters fold case: `-` and `:` must match exactly.
    if (c !== expected && !(expected >= 0x61 && c === expected - 0x20)) return undefined;
  }
  while (block[i] === SPACE || block[i] === TAB) i++;
  // The digits must run up to the closing blank line; anything else after them is the general decoder's to judge.
  const length = parseInteger(block, maxInteger, i, stop - 2);
  if (length < 0) return undefined;
  return { verb: "SEND", to: internName(block, from, end), length };
}

function startsWith(block: Uint8Array, start: number, prefix: readonly number[]): boolean {
  for (let i = 0; i < prefix.length; i++) if (block[start + i] !== prefix[i]) return false;
  return true;
}

/** The end of a run of printable, non-space ASCII from `start`. */
function nameEnd(block: Uint8Array, start: number): number {
  let i = start;
  for (let c = block[i]!; c > SPACE && c < 0x7f; c = block[++i]!);
  return i;
}

// Names repeat message after message; a small table keyed by a hash of the
// bytes gives back the same string instead of building one per message.
// 4096 slots keep collisions rare for a few hundred active names; a collision
// only costs building the string again.
const slots = 4096;
const slotBytes: (Uint8Array | undefined)[] = new Array(slots);
const slotNames: string[] = new Array(slots);

function internName(block: Uint8Array, start: number, end: number): string {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ block[i]!, 0x01000193);
  const slot = (hash >>> 0) & (slots - 1);
  const known = slotBytes[slot];
  if (known !== undefined && known.length === end - start && sameBytes(known, block, start)) return slotNames[slot]!;
  let name = "";
  for (let i = start; i < end; i++) name += String.fromCharCode(block[i]!);
  // A copy, made without a view (a view of a fresh chunk is the expensive part),
  // and owning its memory even when the block is a Buffer.
  slotBytes[slot] = Uint8Array.prototype.slice.call(block, start, end);
  slotNames[slot] = name;
  return name;
}

function sameBytes(known: Uint8Array, block: Uint8Array, start: number): boolean {
  for (let i = 0; i < known.length; i++) if (known[i] !== block[start + i]) return false;
  return true;
}
