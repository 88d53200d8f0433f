// The Outbox over a scripted ByteSink: the sink stands in for a Bun socket's
// write()/end() contract (BUN-NOTES.md: write returns how many bytes the kernel
// took, drops the rest, -1 once closed), so every partial write is exact.

import { describe, expect, test } from "bun:test";
import { Outbox, type ByteSink } from "../../src/net/outbox.ts";

const encoder = new TextEncoder();
const b = (text: string) => encoder.encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Lets queued microtasks (the outbox's end-of-turn flush) run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A sink that takes at most `capacity` bytes per write, and records what it took. */
class ScriptedSink implements ByteSink {
  /** Bytes accepted per write() call, copied at the time of the call. */
  readonly writes: Uint8Array[] = [];
  /** Everything, in order: "write:<n offered>" and "end". */
  readonly events: string[] = [];
  capacity: number;
  closed = false;

  constructor(capacity = Infinity) {
    this.capacity = capacity;
  }

  write(data: Uint8Array, byteOffset: number, byteLength: number): number {
    this.events.push(`write:${byteLength}`);
    if (this.closed) return -1;
    const taken = Math.min(this.capacity, byteLength);
    this.writes.push(data.slice(byteOffset, byteOffset + taken));
    return taken;
  }

  end(): void {
    this.events.push("end");
  }

  get received(): string {
    return this.writes.map(text).join("");
  }
}

function outbox(sink: ByteSink, maxQueuedBytes = 1024) {
  const overflows: number[] = [];
  const box = new Outbox(sink, maxQueuedBytes, () => overflows.push(box.queuedBytes));
  return { box, overflows };
}

describe("Outbox", () => {
  test("joins every write of one turn into a single sink.write", async () => {
    const sink = new ScriptedSink();
    const { box } = outbox(sink);
    for (const part of ["REGISTERED TOSEND a\n\n", "SENT b\n\n", "ERROR 102 Unable to send\n\n"]) box.write(b(part));
    expect(sink.events).toEqual([]);
    await nextTurn();
    expect(sink.events).toEqual(["write:55"]);
    expect(sink.received).toBe("REGISTERED TOSEND a\n\nSENT b\n\nERROR 102 Unable to send\n\n");
    expect(box.queuedBytes).toBe(0);
  });

  test("writes again in a later turn", async () => {
    const sink = new ScriptedSink();
    const { box } = outbox(sink);
    box.write(b("one"));
    await nextTurn();
    box.write(b("two"));
    await nextTurn();
    expect(sink.events).toEqual(["write:3", "write:3"]);
    expect(sink.received).toBe("onetwo");
  });

  test("keeps exactly the unwritten tail of a partial write and sends it, before anything newer, on drain", async () => {
    const sink = new ScriptedSink(4);
    const { box } = outbox(sink);
    box.write(b("abcdef"));
    box.write(b("ghij"));
    await nextTurn();
    expect(sink.received).toBe("abcd");
    expect(box.queuedBytes).toBe(6);

    // Blocked: new writes queue behind the tail and nothing is written until drain.
    box.write(b("kl"));
    await nextTurn();
    expect(sink.events).toEqual(["write:10"]);
    expect(box.queuedBytes).toBe(8);

    sink.capacity = Infinity;
    box.onDrain();
    expect(sink.received).toBe("abcdefghijkl");
    expect(box.queuedBytes).toBe(0);
  });

  test("goes on writing partially, drain after drain, until the sink takes everything", async () => {
    const sink = new ScriptedSink(3);
    const { box } = outbox(sink);
    box.write(b("0123456789"));
    await nextTurn();
    for (let i = 0; i < 3; i++) box.onDrain();
    expect(sink.writes.map(text)).toEqual(["012", "345", "678", "9"]);
    expect(box.queuedBytes).toBe(0);
  });

  test("keeps a tail that later flushes of other outboxes cannot change", async () => {
    // Both outboxes join their parts in one shared scratch buffer.
    const first = new ScriptedSink(2);
    const { box: a } = outbox(first);
    a.write(b("AAAA"));
    a.write(b("BBBB"));
    const other = new ScriptedSink();
    const { box: c } = outbox(other);
    c.write(b("xxxxxxxx"));
    c.write(b("yyyyyyyy"));
    await nextTurn();
    expect(other.received).toBe("xxxxxxxxyyyyyyyy");

    first.capacity = Infinity;
    a.onDrain();
    expect(first.received).toBe("AAAABBBB");
  });

  test("joins more than the shared scratch buffer holds without losing bytes", async () => {
    const sink = new ScriptedSink(100_000);
    const { box } = outbox(sink, 1 << 20);
    const parts = Array.from({ length: 5 }, (_, i) => new Uint8Array(100_000).fill(0x61 + i));
    for (const part of parts) box.write(part);
    await nextTurn();
    for (let i = 0; i < 4; i++) box.onDrain();
    expect(sink.writes).toHaveLength(5);
    sink.writes.forEach((written, i) => expect(Buffer.from(written).equals(parts[i]!)).toBe(true));
  });

  describe("slow-consumer cap", () => {
    test("accepts exactly maxQueuedBytes and calls onOverflow at maxQueuedBytes + 1", async () => {
      const sink = new ScriptedSink(0);
      const { box, overflows } = outbox(sink, 10);
      box.write(b("0123456789"));
      await nextTurn();
      expect(overflows).toEqual([]);
      box.write(b("!"));
      expect(overflows).toHaveLength(1);
    });

    test("counts a partial write's tail toward the cap", async () => {
      const sink = new ScriptedSink(4);
      const { box, overflows } = outbox(sink, 10);
      box.write(b("0123456789"));
      await nextTurn();
      box.write(b("abcd"));
      expect(overflows).toEqual([]);
      box.write(b("e"));
      expect(overflows).toHaveLength(1);
    });

    test("drops what is queued on overflow and writes nothing more", async () => {
      const sink = new ScriptedSink(0);
      const { box, overflows } = outbox(sink, 4);
      box.write(b("12345"));
      expect(overflows).toHaveLength(1);
      expect(box.queuedBytes).toBe(0);
      box.write(b("more"));
      sink.capacity = Infinity;
      box.onDrain();
      await nextTurn();
      expect(sink.events).toEqual([]);
      expect(overflows).toHaveLength(1);
    });
  });

  describe("end", () => {
    test("flushes what this turn queued, then ends the sink", async () => {
      const sink = new ScriptedSink();
      const { box } = outbox(sink);
      box.write(b("ERROR 102 Unable to send\n\n"));
      box.write(b("ERROR 103 Header incomplete\n\n"));
      box.end();
      await nextTurn();
      expect(sink.events).toEqual(["write:55", "end"]);
      expect(sink.received).toBe("ERROR 102 Unable to send\n\nERROR 103 Header incomplete\n\n");
    });

    test("ends at once when nothing is queued", () => {
      const sink = new ScriptedSink();
      const { box } = outbox(sink);
      box.end();
      expect(sink.events).toEqual(["end"]);
    });

    test("waits for drain to send a blocked tail before ending", async () => {
      const sink = new ScriptedSink(3);
      const { box } = outbox(sink);
      box.write(b("abcdef"));
      box.end();
      await nextTurn();
      expect(sink.events).toEqual(["write:6"]);
      sink.capacity = Infinity;
      box.onDrain();
      expect(sink.events).toEqual(["write:6", "write:3", "end"]);
      expect(sink.received).toBe("abcdef");
    });

    test("ends the sink after the grace period when the peer never takes the tail", async () => {
      const sink = new ScriptedSink(3);
      const { box } = outbox(sink);
      const ended = Promise.withResolvers<void>();
      const end = sink.end.bind(sink);
      sink.end = () => {
        end();
        ended.resolve();
      };
      box.write(b("abcdef"));
      box.end(20);
      await nextTurn();
      expect(sink.events).toEqual(["write:6"]);
      const late = setTimeout(() => ended.reject(new Error("not ended within 2 s")), 2000);
      await ended.promise;
      clearTimeout(late);
      expect(sink.events).toEqual(["write:6", "end"]);
      expect(box.queuedBytes).toBe(0);
    });

    test("drops writes after end, and ends only once", async () => {
      const sink = new ScriptedSink();
      const { box } = outbox(sink);
      box.write(b("last"));
      box.end();
      box.write(b("too late"));
      box.end();
      await nextTurn();
      box.write(b("later still"));
      box.end();
      box.onDrain();
      await nextTurn();
      expect(sink.events).toEqual(["write:4", "end"]);
      expect(sink.received).toBe("last");
    });
  });

  test("stops writing once the sink reports it is closed (-1)", async () => {
    const sink = new ScriptedSink();
    sink.closed = true;
    const { box, overflows } = outbox(sink);
    box.write(b("lost"));
    await nextTurn();
    expect(box.queuedBytes).toBe(0);
    box.write(b("also lost"));
    await nextTurn();
    expect(sink.events).toEqual(["write:4"]);
    expect(overflows).toEqual([]);
  });

  test("close() drops the queue without ending the sink", async () => {
    const sink = new ScriptedSink();
    const { box } = outbox(sink);
    box.write(b("dropped"));
    box.close();
    box.end();
    await nextTurn();
    expect(sink.events).toEqual([]);
    expect(box.queuedBytes).toBe(0);
  });
});

describe("Outbox behind a blocked socket", () => {
  test("coalesces small writes into one buffer, in order, around a large one", async () => {
    const sink = new ScriptedSink(2);
    const { box } = outbox(sink, 1 << 20);
    box.write(b("ab-blocked"));
    await nextTurn();
    const large = new Uint8Array(2000).fill(0x78);
    const expected = ["-blocked", "one", "two", new TextDecoder().decode(large), "three"].join("");
    for (const part of [b("one"), b("two"), large, b("three")]) box.write(part);
    expect(box.queuedBytes).toBe(expected.length);
    sink.capacity = Infinity;
    box.onDrain();
    await nextTurn();
    expect(new TextDecoder().decode(Buffer.concat(sink.writes.slice(1)))).toBe(expected);
  });

  test("counts every byte it ever queued and every byte the kernel took", async () => {
    const sink = new ScriptedSink(4);
    const { box } = outbox(sink, 1 << 20);
    box.write(b("0123456789"));
    await nextTurn();
    expect([box.queuedTotal, box.flushedTotal]).toEqual([10, 4]);
    sink.capacity = Infinity;
    box.onDrain();
    expect([box.queuedTotal, box.flushedTotal]).toEqual([10, 10]);
  });
});
