// The bench's own WebSocket client framing (bench/ws-frames.ts): what it
// writes must be frames a server reads, and what it reads must survive TCP
// splitting a frame anywhere, or a WebSocket run would count wrong round trips.

import { describe, expect, test } from "bun:test";
import { FrameReader, Opcode, checkUpgradeResponse, maskedFrame, upgradeRequest } from "../../bench/ws-frames.ts";

/** A frame as a server sends it: final, unmasked. */
function serverFrame(payload: Uint8Array, opcode: number = Opcode.Binary): Uint8Array {
  const length = payload.length;
  const head = length < 126 ? [0x80 | opcode, length] : length < 65536 ? [0x80 | opcode, 126, length >> 8, length & 0xff] : [0x80 | opcode, 127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
  return new Uint8Array([...head, ...payload]);
}

const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(parts.flatMap((part) => [...part]));
const payload = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

/** Reads `chunks` in order; returns the joined payloads of each push, the control frames and any error. */
function read(chunks: Uint8Array[]) {
  const pushes: Uint8Array[] = [];
  const controls: [number, number[]][] = [];
  const reader = new FrameReader(
    (bytes) => pushes.push(bytes.slice()),
    (opcode, body) => controls.push([opcode, [...body]]),
  );
  const errors = chunks.map((chunk) => reader.push(chunk)).filter((error) => error !== undefined);
  return { payloads: concat(pushes), pushes: pushes.length, controls, errors };
}

describe("bench/ws-frames", () => {
  test("a masked frame carries its payload unchanged, with the length form RFC 6455 asks for", () => {
    for (const [length, lengthBytes] of [[0, 1], [125, 1], [126, 3], [65535, 3], [65536, 9]] as const) {
      const frame = maskedFrame(payload(length, 1));
      expect(frame[0]).toBe(0x80 | Opcode.Binary);
      expect(frame[1]! & 0x80).toBe(0x80);
      const maskAt = 1 + lengthBytes;
      expect([...frame.subarray(maskAt, maskAt + 4)]).toEqual([0, 0, 0, 0]);
      expect(frame.subarray(maskAt + 4)).toEqual(payload(length, 1));
      const declared = lengthBytes === 1 ? frame[1]! & 0x7f : lengthBytes === 3 ? (frame[2]! << 8) | frame[3]! : new DataView(frame.buffer, 2, 8).getUint32(4);
      expect(declared).toBe(length);
    }
  });

  test("reads the same payloads however TCP splits the frames, and joins a chunk's into one push", () => {
    const bodies = [0, 5, 125, 126, 300].map((length, i) => payload(length, i));
    const ping = serverFrame(new Uint8Array([7, 8]), Opcode.Ping);
    const stream = concat([...bodies.slice(0, 2).map((body) => serverFrame(body)), ping, ...bodies.slice(2).map((body) => serverFrame(body))]);
    const expected = concat(bodies);

    const whole = read([stream]);
    expect(whole).toEqual({ payloads: expected, pushes: 1, controls: [[Opcode.Ping, [7, 8]]], errors: [] });
    for (let at = 0; at <= stream.length; at++) {
      const split = read([stream.subarray(0, at), stream.subarray(at)]);
      expect(split.errors).toEqual([]);
      expect(split.payloads).toEqual(expected);
      expect(split.controls).toEqual([[Opcode.Ping, [7, 8]]]);
    }
    const byteByByte = read([...stream].map((byte) => new Uint8Array([byte])));
    expect(byteByByte.payloads).toEqual(expected);
    expect(byteByByte.pushes).toBe(bodies.length);
  });

  test("reads a frame with a 64-bit length split in three", () => {
    const body = payload(70_000, 9);
    const frame = serverFrame(body);
    expect(read([frame.subarray(0, 5), frame.subarray(5, 40_000), frame.subarray(40_000)])).toEqual({ payloads: body, pushes: 1, controls: [], errors: [] });
  });

  test("refuses frames a server must not send: masked, or part of a fragmented message", () => {
    const masked = maskedFrame(payload(3, 0));
    expect(read([masked]).errors).toEqual(["a masked frame from the server"]);
    const unfinished = serverFrame(payload(3, 0));
    unfinished[0] = Opcode.Binary; // FIN clear: more of the message would follow
    expect(read([unfinished]).errors).toEqual(["a fragmented WebSocket message (the server sends each whole)"]);
  });

  test("asks for /ws without an Origin and checks the server's answer to its key", () => {
    const request = new TextDecoder().decode(upgradeRequest(4321));
    expect(request).toStartWith("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:4321\r\n");
    expect(request).toEndWith("\r\n\r\n");
    expect(request.toLowerCase()).not.toContain("origin:");
    const accepted = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
    expect(checkUpgradeResponse(accepted)).toBeUndefined();
    expect(checkUpgradeResponse(accepted.replace("xOo=", "xOp="))).toBe("the upgrade answered a wrong Sec-WebSocket-Accept");
    expect(checkUpgradeResponse("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n")).toBe("the upgrade was refused: HTTP/1.1 403 Forbidden");
  });
});
