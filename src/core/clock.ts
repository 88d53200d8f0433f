// The time, read once per chunk of input rather than once per message: two
// clock reads per message were measurable in the pipelined bench, and a
// chunk is handled within a fraction of a millisecond.

export class Clock {
  #now = performance.now();

  /** The time of the last tick(), in ms. */
  get now(): number {
    return this.#now;
  }

  /** Reads the clock: at the start of each chunk, and of each timer's work. */
  tick(): number {
    return (this.#now = performance.now());
  }
}
