// Random streams: exact agreement with an independent BigInt reference of
// SplitMix64 + 4-lane xoshiro256+ (for both engines), determinism, fill ≡ next,
// independence of streams, statistical checks, argument errors.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import test from "ava"
import fc from "fast-check"
import { InvalidArgument } from "../../src/errors.ts"
import { RandomStream, randomEngineName, randomStream, setRandomEngine } from "../../src/pipeline/random.ts"
import { ROOT } from "../helpers.ts"

// --- reference implementation (BigInt, straight from the published algorithms) ---

const MASK = (1n << 64n) - 1n
const GAMMA = 0x9e3779b97f4a7c15n
const mix64 = (z: bigint): bigint => {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK
  return z ^ (z >> 31n)
}
const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (64n - k))) & MASK

/** The raw 64-bit outputs of stream (seed, stream): value k is lane k % 4's output ⌊k / 4⌋. */
function referenceRaw(seed: number, stream: number, n: number): bigint[] {
  let key = mix64(mix64((BigInt(seed) + GAMMA) & MASK) ^ BigInt(stream))
  const lanes: bigint[][] = []
  for (let lane = 0; lane < 4; lane++) {
    const s: bigint[] = []
    for (let w = 0; w < 4; w++) {
      key = (key + GAMMA) & MASK
      s.push(mix64(key))
    }
    lanes.push(s)
  }
  const out: bigint[] = []
  for (let k = 0; k < n; k++) {
    const s = lanes[k % 4]!
    const [s0, s1, s2, s3] = s as [bigint, bigint, bigint, bigint]
    out.push((s0 + s3) & MASK)
    const t = (s1 << 17n) & MASK
    const n2 = s2 ^ s0, n3 = s3 ^ s1
    const n1 = s1 ^ n2, n0 = s0 ^ n3
    s[0] = n0
    s[1] = n1
    s[2] = n2 ^ t
    s[3] = rotl(n3, 45n)
  }
  return out
}
const toUniform = (x: bigint): number => Number(x >> 12n) * 2 ** -52
const reference = (seed: number, stream: number, n: number): number[] => referenceRaw(seed, stream, n).map(toUniform)

const draw = (rng: RandomStream, n: number): number[] => Array.from({ length: n }, () => rng.next())

/** Runs `body` with each available engine forced, restoring the default after. */
function withEachEngine(body: (engine: string) => void): void {
  const original = randomEngineName()
  try {
    for (const engine of ["wasm-simd", "js"] as const) {
      if (setRandomEngine(engine)) body(engine)
    }
  } finally {
    setRandomEngine(original)
  }
}

const safeId = fc.oneof(fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER))

// --- exactness and determinism -----------------------------------------------

test("the WebAssembly SIMD engine is the default on Node", (t) => {
  t.is(randomEngineName(), "wasm-simd")
})

test("the first values match the C reference (SplitMix64 seeding, xoshiro256+)", (t) => {
  // Printed by Vigna's xoshiro256plus.c seeded as documented in random.ts.
  t.deepEqual(draw(randomStream(0, 0), 3), [0.8182220049965379, 0.8041211460337934, 0.3865264401626831])
  t.deepEqual(draw(randomStream(2 ** 53 - 1, 12345678901), 3), [0.21866175387139775, 0.5749205979427501, 0.5338798687797841])
})

test("both engines reproduce the BigInt reference exactly, for any (seed, stream)", (t) => {
  withEachEngine((engine) => {
    fc.assert(
      fc.property(safeId, safeId, (seed, stream) => {
        const want = reference(seed, stream, 40)
        t.deepEqual(draw(randomStream(seed, stream), 40), want, `${engine} next (${seed}, ${stream})`)
        t.deepEqual([...randomStream(seed, stream).fill(new Float64Array(40))], want, `${engine} fill (${seed}, ${stream})`)
      }),
      { numRuns: 60 },
    )
    // Long enough to cross whole kernel blocks (4096) and next() refills (512).
    const n = 3 * 4096 + 517
    const want = reference(17, 3, n)
    t.deepEqual([...randomStream(17, 3).fill(new Float64Array(n))], want, `${engine} long fill`)
    t.deepEqual(draw(randomStream(17, 3), n), want, `${engine} long next`)
  })
})

test("the same (seed, stream) gives the same values, from a new object or after reset", (t) => {
  const a = draw(randomStream(123, 45), 2000)
  t.deepEqual(draw(randomStream(123, 45), 2000), a)
  const rng = randomStream(9, 9)
  draw(rng, 777)
  t.is(rng.reset(123, 45), rng, "reset returns the stream itself")
  t.deepEqual(draw(rng, 2000), a)
  t.is(rng.seed, 123)
  t.is(rng.stream, 45)
  rng.reset(123, 45)
  rng.fill(new Float64Array(10))
  rng.reset(123, 45)
  t.deepEqual(draw(rng, 2000), a, "reset also discards what fill left buffered")
})

test("fill and nextUint32 consume the same sequence as next, in any interleaving", (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("next" as const), n: fc.integer({ min: 1, max: 700 }) }),
    fc.record({ kind: fc.constant("uint32" as const), n: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ kind: fc.constant("fill" as const), n: fc.integer({ min: 0, max: 9000 }), pad: fc.integer({ min: 0, max: 3 }) }),
  )
  withEachEngine((engine) => {
    fc.assert(
      fc.property(safeId, fc.array(op, { maxLength: 8 }), (seed, ops) => {
        const total = ops.reduce((sum, o) => sum + o.n, 0)
        const want = reference(seed, 1, total)
        const rng = randomStream(seed, 1)
        const got: number[] = []
        for (const o of ops) {
          if (o.kind === "next") got.push(...draw(rng, o.n))
          else if (o.kind === "uint32") {
            for (let i = 0; i < o.n; i++) got.push(rng.nextUint32())
          } else {
            const out = new Float64Array(o.n + 2 * o.pad).fill(-1)
            t.is(rng.fill(out, o.pad, o.pad + o.n), out)
            t.true(out.subarray(0, o.pad).every((v) => v === -1) && out.subarray(o.pad + o.n).every((v) => v === -1), "fill writes only [from, to)")
            got.push(...out.subarray(o.pad, o.pad + o.n))
          }
        }
        // nextUint32 entries are ⌊u · 2^32⌋ of the value they consumed.
        let k = 0
        for (const o of ops) {
          for (let i = 0; i < o.n; i++, k++) {
            const expected = o.kind === "uint32" ? Math.floor(want[k]! * 2 ** 32) : want[k]!
            if (got[k] !== expected) return t.fail(`${engine}: value ${k} (${o.kind}) is ${got[k]}, expected ${expected}`)
          }
        }
        return true
      }),
      { numRuns: 40 },
    )
  })
  t.pass()
})

test("nextUint32 returns the top 32 bits of the generator's output", (t) => {
  const rng = randomStream(77, 5)
  const raw = referenceRaw(77, 5, 1000)
  for (let i = 0; i < 1000; i++) {
    const v = rng.nextUint32()
    t.true(Number.isInteger(v) && v >= 0 && v < 2 ** 32)
    if (v !== Number(raw[i]! >> 32n)) return t.fail(`value ${i}: ${v}`)
  }
  return undefined
})

test("the result of a chunked Monte Carlo sum does not depend on the rank count", (t) => {
  // 64 chunks of 2048 points, chunk c from stream (seed, c); ranks take block
  // ranges of chunks (remainder to the first ranks) and the per-rank counts are
  // summed in rank order, as a pipeline would.
  const seed = 31337, chunks = 64, points = 2048
  const buf = new Float64Array(2 * points)
  const rng = randomStream(seed, 0)
  const hitsOfChunk = (c: number): number => {
    rng.reset(seed, c).fill(buf)
    let hits = 0
    for (let i = 0; i < buf.length; i += 2) hits += +(buf[i]! ** 2 + buf[i + 1]! ** 2 <= 1)
    return hits
  }
  const totals = [1, 2, 3, 4, 5, 7, 8, 64].map((ranks) => {
    let total = 0
    for (let r = 0; r < ranks; r++) {
      const base = Math.floor(chunks / ranks), extra = chunks % ranks
      const start = r * base + Math.min(r, extra), count = base + (r < extra ? 1 : 0)
      for (let c = start; c < start + count; c++) total += hitsOfChunk(c)
    }
    return total
  })
  t.true(totals.every((x) => x === totals[0]), totals.join(" "))
})

// --- range and independence --------------------------------------------------

test("values lie in [0, 1) and are multiples of 2^-52", (t) => {
  const u = randomStream(1, 2).fill(new Float64Array(1_000_000))
  let min = 1, max = 0, offGrid = 0
  for (const x of u) {
    if (x < min) min = x
    if (x > max) max = x
    if (!Number.isInteger(x * 2 ** 52)) offGrid++
  }
  t.true(min >= 0 && min < 1e-5, `min ${min}`)
  t.true(max < 1 && max > 1 - 1e-5, `max ${max}`)
  t.is(offGrid, 0)
})

test("different streams and different seeds give different sequences", (t) => {
  const firsts = new Set<number>()
  for (let s = 0; s < 1000; s++) firsts.add(randomStream(5, s).next())
  for (let seed = 0; seed < 1000; seed++) firsts.add(randomStream(seed, 5).next())
  // (5, 5) appears in both loops: 1999 distinct (seed, stream) pairs.
  t.is(firsts.size, 1999)
  t.notDeepEqual(draw(randomStream(1, 2), 10), draw(randomStream(2, 1), 10), "(seed, stream) is not symmetric")
  t.notDeepEqual(draw(randomStream(0, 2 ** 32), 10), draw(randomStream(2 ** 32, 0), 10))
})

// --- statistics (bounds at 5σ: a sound generator fails ~1 run in 10^6) --------

const N = 1_000_000

function meanOf(u: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < u.length; i++) s += u[i]!
  return s / u.length
}

function varianceOf(u: ArrayLike<number>): number {
  const m = meanOf(u)
  let s = 0
  for (let i = 0; i < u.length; i++) s += (u[i]! - m) ** 2
  return s / (u.length - 1)
}

function chiSquare(u: ArrayLike<number>, bins: number): number {
  const counts = new Float64Array(bins)
  for (let i = 0; i < u.length; i++) counts[Math.floor(u[i]! * bins)]!++
  const expected = u.length / bins
  let chi = 0
  for (const c of counts) chi += (c - expected) ** 2 / expected
  return chi
}

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = meanOf(a), mb = meanOf(b)
  let sab = 0, saa = 0, sbb = 0
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - ma, db = b[i]! - mb
    sab += da * db
    saa += da * da
    sbb += db * db
  }
  return sab / Math.sqrt(saa * sbb)
}

const lagged = (u: Float64Array, lag: number): [Float64Array, Float64Array] => [u.subarray(0, u.length - lag), u.subarray(lag)]

/** Mean, variance and 100-bin χ² of a sample, each checked at 5σ; returns the failures. */
function uniformityFailures(u: Float64Array): string[] {
  const failures: string[] = []
  const n = u.length
  const mean = meanOf(u)
  if (Math.abs(mean - 0.5) > 5 * Math.sqrt(1 / 12 / n)) failures.push(`mean ${mean}`)
  // Var(s²) ≈ (μ4 − σ⁴)/n with μ4 = 1/80, σ² = 1/12 for U(0, 1).
  const variance = varianceOf(u)
  if (Math.abs(variance - 1 / 12) > 5 * Math.sqrt((1 / 80 - 1 / 144) / n)) failures.push(`variance ${variance}`)
  // χ² with 99 degrees of freedom: mean 99, standard deviation √198.
  const chi = chiSquare(u, 100)
  if (Math.abs(chi - 99) > 5 * Math.sqrt(198)) failures.push(`chi-square ${chi}`)
  return failures
}

test("10^6 uniforms: mean, variance and 100-bin chi-square within 5σ, for several streams", (t) => {
  const u = new Float64Array(N)
  for (const [seed, stream] of [[0, 0], [1, 0], [1, 1], [2 ** 53 - 1, 2 ** 53 - 1]] as const) {
    t.deepEqual(uniformityFailures(randomStream(seed, stream).fill(u)), [], `(${seed}, ${stream})`)
  }
  // The first value of each of 10^6 consecutive streams is uniform too.
  const rng = randomStream(3, 0)
  for (let s = 0; s < N; s++) u[s] = rng.reset(3, s).next()
  t.deepEqual(uniformityFailures(u), [], "first values of streams 0..10^6")
})

test("no correlation between adjacent streams, adjacent seeds, or lags within a stream", (t) => {
  const bound = 5 / Math.sqrt(N) // the sample correlation of independent uniforms has σ ≈ 1/√n
  const a = randomStream(10, 41).fill(new Float64Array(N))
  const b = randomStream(10, 42).fill(new Float64Array(N))
  const c = randomStream(11, 41).fill(new Float64Array(N))
  const cases: Array<[string, number]> = [
    ["streams 41 and 42", correlation(a, b)],
    ["seeds 10 and 11", correlation(a, c)],
    ...[1, 2, 3, 4, 8].map((lag): [string, number] => [`lag ${lag}`, correlation(...lagged(a, lag))]),
  ]
  for (const [what, r] of cases) t.true(Math.abs(r) < bound, `${what}: r = ${r}`)
})

test("π from 10^6 samples is within 5σ", (t) => {
  const rng = randomStream(2024, 7)
  const buf = new Float64Array(4096)
  let hits = 0
  for (let done = 0; done < N; done += 2048) {
    rng.fill(buf)
    for (let i = 0; i < buf.length; i += 2) hits += +(buf[i]! ** 2 + buf[i + 1]! ** 2 <= 1)
  }
  const samples = Math.ceil(N / 2048) * 2048
  const pi = (4 * hits) / samples
  const p = Math.PI / 4
  t.true(Math.abs(pi - Math.PI) < 5 * 4 * Math.sqrt((p * (1 - p)) / samples), `π ≈ ${pi}`)
})

test("the statistical checks do reject flawed generators (they can fail)", (t) => {
  const u = randomStream(1, 1).fill(new Float64Array(N))
  const skewed = u.map((x) => x ** 1.01)
  t.notDeepEqual(uniformityFailures(skewed), [], "a slightly skewed distribution")
  const coarse = u.map((x) => Math.floor(x * 100.5) / 100.5)
  t.notDeepEqual(uniformityFailures(coarse), [], "bins that do not align with the grid")
  const same = randomStream(1, 1).fill(new Float64Array(N))
  t.true(correlation(u, same.map((x, i) => (i % 100 === 0 ? x : u[(i + 7) % N]!))) > 5 / Math.sqrt(N), "1% shared values")
})

// --- errors and structure ------------------------------------------------------

test("bad seeds and stream numbers are rejected with InvalidArgument", (t) => {
  const bad = [-1, 1.5, Number.NaN, Infinity, 2 ** 53, -0.5, "3" as unknown as number]
  for (const value of bad) {
    const e1 = t.throws(() => randomStream(value, 0), { instanceOf: InvalidArgument })
    t.is(e1._tag, "InvalidArgument")
    t.is(e1.op, "randomStream")
    t.is(e1.argument, "seed")
    t.regex(e1.message, /^randomStream: seed = .* must be a non-negative safe integer/)
    const e2 = t.throws(() => randomStream(0, value), { instanceOf: InvalidArgument })
    t.is(e2.argument, "stream")
    const rng = randomStream(1, 1)
    const before = draw(randomStream(1, 1), 3)
    const e3 = t.throws(() => rng.reset(1, value), { instanceOf: InvalidArgument })
    t.is(e3.op, "RandomStream.reset")
    t.deepEqual(draw(rng, 3), before, "a rejected reset leaves the stream as it was")
  }
  t.notThrows(() => randomStream(Number.MAX_SAFE_INTEGER, 0))
  t.notThrows(() => randomStream(0, Number.MAX_SAFE_INTEGER))
})

test("fill rejects a bad output array or range", (t) => {
  const rng = randomStream(1, 1)
  const out = new Float64Array(10)
  for (const [from, to] of [[-1, 5], [6, 5], [0, 11], [0.5, 3], [0, Number.NaN]]) {
    const e = t.throws(() => rng.fill(out, from, to), { instanceOf: InvalidArgument })
    t.is(e.op, "RandomStream.fill")
  }
  t.throws(() => rng.fill(new Float32Array(4) as unknown as Float64Array), { instanceOf: InvalidArgument, message: /must be a Float64Array/ })
  t.is(rng.fill(out, 3, 3), out, "an empty range is fine")
  t.deepEqual(draw(rng, 3), draw(randomStream(1, 1), 3), "rejected fills consumed nothing")
})

test("the module is light: it imports only errors.ts and its own kernel", (t) => {
  for (const file of ["random.ts", "randomKernel.ts"]) {
    const text = readFileSync(join(ROOT, "src/pipeline", file), "utf8")
    const imports = [...text.matchAll(/^import [^"]*"([^"]+)"/gm)].map((m) => m[1])
    t.deepEqual(imports, file === "random.ts" ? ["../errors.ts", "./randomKernel.ts"] : [], file)
  }
})
