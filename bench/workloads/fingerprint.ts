// Bit-exact fingerprints of distributed float64 fields: a hash of every
// value's 64 bits mixed with its global index, summed modulo 2^32 in two
// independent lanes. Sums combine in any order, so each rank adds its own
// block, the lanes are reduced with SUM, and the same field gives the same
// fingerprint on every rank count and in serial — no gather needed.
//
// Rank side and main side: no imports.

/** Partial fingerprint of the values a rank (or the serial run) owns. */
export class Fingerprint {
  /** The two lanes, each in [0, 2^32): reduce them with SUM across ranks, then `fingerprintHex`. */
  readonly lanes = new Float64Array(2)

  /** Adds `values[from, to)`, the first of which has global index `globalIndex`. */
  add(values: Float64Array, from: number, to: number, globalIndex: number): this {
    const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2)
    let a = this.lanes[0]!
    let b = this.lanes[1]!
    for (let i = from, g = globalIndex; i < to; i++, g++) {
      const lo = words[2 * i]!
      const hi = words[2 * i + 1]!
      a = (a + mix(lo ^ Math.imul(g, 0x9e3779b1), hi, 0x85ebca6b, 0xc2b2ae35)) >>> 0
      b = (b + mix(hi ^ Math.imul(g, 0x7feb352d), lo, 0x846ca68b, 0x27d4eb2f)) >>> 0
    }
    this.lanes[0] = a
    this.lanes[1] = b
    return this
  }
}

/** murmur3-style finalizer over two words. */
function mix(x: number, y: number, m1: number, m2: number): number {
  x = Math.imul(x ^ (x >>> 16), m1) ^ y
  x = Math.imul(x ^ (x >>> 13), m2)
  return x ^ (x >>> 16)
}

/** The fingerprint of summed lanes as 16 hex digits. */
export function fingerprintHex(lanes: ArrayLike<number>): string {
  const word = (v: number): string => (v % 4294967296 >>> 0).toString(16).padStart(8, "0")
  return word(lanes[0]!) + word(lanes[1]!)
}
