// A fixed-size log-linear latency histogram (HdrHistogram's idea, reduced):
// constant memory however many samples, about 0.8% relative precision, so a
// generator can record millions of round trips without keeping them.

// Values are recorded in 1/8 microsecond units; below 2^8 units (32 µs) every
// unit has its own bucket, above it each power of two has 128 buckets.
const unitsPerMicro = 8;
const linear = 256;
const subBits = 7;
const sub = 1 << subBits;
const bucketCount = linear + (31 - 8) * sub;

export type Percentiles = { count: number; p50: number; p99: number; p999: number; max: number; mean: number };

function indexOf(units: number): number {
  if (units < linear) return units;
  const exponent = 31 - Math.clz32(units);
  return linear + (exponent - 8) * sub + ((units >>> (exponent - subBits)) - sub);
}

/** The middle of bucket `index`, in microseconds. */
function valueOf(index: number): number {
  if (index < linear) return (index + 0.5) / unitsPerMicro;
  const exponent = Math.floor((index - linear) / sub) + 8;
  const low = (((index - linear) % sub) + sub) * 2 ** (exponent - subBits);
  return (low + 2 ** (exponent - subBits - 1)) / unitsPerMicro;
}

export class Histogram {
  readonly #counts = new Float64Array(bucketCount);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Records one latency in microseconds. */
  record(micros: number): void {
    const units = Math.min(Math.max(0, Math.round(micros * unitsPerMicro)), 2 ** 31 - 1);
    this.#counts[indexOf(units)]!++;
    this.#count++;
    this.#sum += micros;
    if (micros > this.#max) this.#max = micros;
  }

  get count(): number {
    return this.#count;
  }

  /** The value at quantile q (0..1), in microseconds; 0 when empty. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < bucketCount; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(valueOf(i), this.#max);
    }
    return this.#max;
  }

  summary(): Percentiles {
    return {
      count: this.#count,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: this.#max,
      mean: this.#count === 0 ? 0 : this.#sum / this.#count,
    };
  }
}
