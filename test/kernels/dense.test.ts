// The dense kernels (src/kernels/dense.ts): dgemv and dgemm against plain
// JavaScript loops, bit for bit (same summation order: the triple loop for
// dgemm, two interleaved partial sums per row for dgemv), over
// random shapes — odd sizes that leave remainders of the SIMD width (2), of
// dgemv's eight-row block and of dgemm's 4 × 4 tile and 256/128/512 blocks,
// 1 × 1, tall and skinny — with operands in the kernel memory and outside it.
import test from "ava"
import fc from "fast-check"
import { Dense, DenseShapeMismatch, InvalidArgument } from "../../src/index.ts"

/**
 * y[i] = Σⱼ a[i·cols + j]·x[j] in the kernel's documented order: the even and
 * the odd columns summed separately (in order), then s0 + s1, then the odd
 * last term — the reference the kernel must equal bit for bit.
 */
function referenceGemv(a: Float64Array, x: Float64Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows)
  for (let i = 0; i < rows; i++) {
    let s0 = 0
    let s1 = 0
    let j = 0
    for (; j + 1 < cols; j += 2) {
      s0 += a[i * cols + j]! * x[j]!
      s1 += a[i * cols + j + 1]! * x[j + 1]!
    }
    y[i] = j < cols ? s0 + s1 + a[i * cols + j]! * x[j]! : s0 + s1
  }
  return y
}

/** c[i·n + j] = Σₚ a[i·k + p]·b[p·n + j], p in order. */
function referenceGemm(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n)
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!
      c[i * n + j] = s
    }
  return c
}

/** Values with mixed signs and magnitudes, so a different summation order would show in the last bits. */
function values(length: number, seed: number): Float64Array {
  const out = new Float64Array(length)
  let s = seed >>> 0 || 1
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = ((s / 4294967296) - 0.5) * 2 ** ((s % 41) - 20)
  }
  return out
}

/** The indices where two arrays differ in any bit (NaN aside, which these inputs do not produce). */
const differences = (got: Float64Array, want: Float64Array): number[] => [...want.keys()].filter((i) => !Object.is(got[i], want[i]))

const size = (max: number) => fc.integer({ min: 0, max })

test("dgemv equals the two-partial-sums loop bit for bit on random shapes, in and out of kernel memory", (t) => {
  fc.assert(
    fc.property(size(37), size(41), fc.integer(), fc.boolean(), (rows, cols, seed, inMemory) => {
      const a = values(rows * cols, seed)
      const x = values(cols, seed + 1)
      const want = referenceGemv(a, x, rows, cols)
      if (!inMemory) return differences(Dense.dgemv(a, x, new Float64Array(rows).fill(NaN), rows, cols), want).length === 0
      const [ka, kx, ky] = [Dense.alloc(a.length), Dense.alloc(cols), Dense.alloc(rows)]
      ka.set(a)
      kx.set(x)
      const inPlace = Dense.kernels().owns(ka) && Dense.kernels().owns(ky)
      const right = differences(Dense.dgemv(ka, kx, ky, rows, cols), want).length === 0
      for (const array of [ka, kx, ky]) Dense.free(array)
      return inPlace && right
    }),
    { numRuns: 300 },
  )
  t.pass()
})

test("dgemm equals the sequential triple loop bit for bit on random shapes (remainders of tile and blocks)", (t) => {
  fc.assert(
    fc.property(size(19), size(23), size(17), fc.integer(), (m, k, n, seed) => {
      const a = values(m * k, seed)
      const b = values(k * n, seed + 7)
      return differences(Dense.dgemm(a, b, new Float64Array(m * n).fill(NaN), m, k, n), referenceGemm(a, b, m, k, n)).length === 0
    }),
    { numRuns: 300 },
  )
  t.pass()
})

test("dgemm across the cache blocks (k > 256, m > 128, n > 512) and tall/skinny shapes equals the triple loop", (t) => {
  for (const [m, k, n] of [
    [131, 259, 515], // one past every block and tile edge
    [1, 1, 1],
    [1, 600, 1], // a dot product
    [700, 1, 3], // tall, depth 1
    [2, 3, 1031], // short and wide
    [257, 513, 6],
  ] as const) {
    const a = values(m * k, m + k)
    const b = values(k * n, k + n)
    t.deepEqual(differences(Dense.dgemm(a, b, new Float64Array(m * n), m, k, n), referenceGemm(a, b, m, k, n)), [], `${m}×${k}·${k}×${n}`)
  }
})

test("dgemv on tall and wide matrices and with longer operands than the shape equals the reference loop", (t) => {
  for (const [rows, cols] of [[1, 1], [1001, 3], [3, 1001], [9, 2], [16, 17]] as const) {
    const a = values(rows * cols + 5, rows)
    const x = values(cols + 3, cols)
    const y = new Float64Array(rows + 2).fill(-1)
    Dense.dgemv(a, x, y, rows, cols)
    t.deepEqual(differences(y.subarray(0, rows), referenceGemv(a, x, rows, cols)), [], `${rows}×${cols}`)
    t.deepEqual(Array.from(y.subarray(rows)), [-1, -1], "elements past the shape are left alone")
  }
})

test("alloc hands out zeroed arrays in kernel memory that stay valid when the memory grows; free reuses them", (t) => {
  const k = new Dense.DenseKernels()
  const small = k.alloc(10).fill(3)
  const pagesBefore = k.memory.buffer.byteLength
  const big = k.alloc(3_000_000) // 24 MB: the memory grows
  t.true(k.memory.buffer.byteLength > pagesBefore)
  t.true(k.owns(small) && k.owns(big))
  t.false(k.owns(new Float64Array(10)))
  t.is(small.length, 10, "a view from before the growth is not detached")
  t.deepEqual(Array.from(small), new Array(10).fill(3))
  t.true(big.every((v) => v === 0))
  // The kernels still see the old view's data after the growth.
  const y = k.alloc(1)
  k.dgemv(small, small, y, 1, 10)
  t.is(y[0], 90)
  k.free(big)
  const again = k.alloc(2_000_000)
  t.is(again.byteOffset, big.byteOffset, "a freed block is reused")
  t.true(again.every((v) => v === 0), "and handed out zeroed")
  t.throws(() => k.free(new Float64Array(2)), { instanceOf: InvalidArgument })
  k.free(again)
  t.throws(() => k.free(again), { instanceOf: InvalidArgument, message: /freed already/ })
})

test("bad shapes and overlapping outputs are refused before any work, naming the operand", (t) => {
  const e = t.throws(() => Dense.dgemv(new Float64Array(6), new Float64Array(2), new Float64Array(2), 2, 3), { instanceOf: DenseShapeMismatch })
  t.like(e, { _tag: "DenseShapeMismatch", op: "Dense.dgemv", argument: "x", needed: 3, length: 2 })
  t.throws(() => Dense.dgemm(new Float64Array(6), new Float64Array(6), new Float64Array(3), 2, 3, 2), { instanceOf: DenseShapeMismatch, message: /c has 3 elements, the shape needs 4/ })
  t.throws(() => Dense.dgemv(new Float64Array(6), new Float64Array(3), new Float64Array(2), 2.5, 3), { instanceOf: InvalidArgument, message: /rows = 2.5/ })
  t.throws(() => Dense.dgemm(new Float64Array(1), new Float64Array(1), new Float64Array(1), 1, -1, 1), { instanceOf: InvalidArgument })
  t.throws(() => Dense.dgemv([1, 2] as unknown as Float64Array, new Float64Array(2), new Float64Array(1), 1, 2), { instanceOf: InvalidArgument, message: /must be a Float64Array/ })
  const k = new Dense.DenseKernels()
  const shared = k.alloc(16)
  t.throws(() => k.dgemv(shared, shared.subarray(0, 4), shared.subarray(2, 6), 4, 4), { instanceOf: InvalidArgument, message: /y .*overlaps a/ })
  t.throws(() => k.alloc(2 ** 29), { instanceOf: InvalidArgument, message: /exceed the kernels' memory/ })
})

test("mmul multiplies ml-matrix matrices like ml-matrix does (to rounding) and like the triple loop (bit for bit)", async (t) => {
  const { Matrix } = await import("ml-matrix")
  const a = Matrix.from1DArray(37, 19, values(37 * 19, 3))
  const b = Matrix.from1DArray(19, 11, values(19 * 11, 4))
  const product = Dense.mmul(a, b)
  t.is(product.length, 37 * 11)
  t.deepEqual(differences(product, referenceGemm(Float64Array.from(a.to1DArray()), Float64Array.from(b.to1DArray()), 37, 19, 11)), [])
  const theirs = a.mmul(b).to1DArray()
  t.true(theirs.every((v, i) => Math.abs(v - product[i]!) <= 1e-12 * Math.max(1, Math.abs(v))))
  t.throws(() => Dense.mmul(a, a), { instanceOf: InvalidArgument, message: /b.rows = 37 must equal a.columns = 19/ })
})

test("arrays from alloc are recognised (used in place) when another kernel instance grows its memory", (t) => {
  const first = new Dense.DenseKernels()
  const early = first.alloc(8).fill(1)
  const second = new Dense.DenseKernels()
  second.alloc(4_000_000) // grows the second memory: V8 gives the first a new buffer object too
  const x = first.alloc(8).fill(1)
  const a = first.alloc(16).fill(2)
  const y = first.alloc(2)
  t.true([early, x, a, y].every((v) => first.owns(v)))
  t.true(first.owns(new Float64Array(first.memory.buffer, x.byteOffset, 8)), "a view the caller made of memory.buffer")
  first.dgemv(a, early, y, 2, 8)
  t.deepEqual(Array.from(y), [16, 16])
  first.free(x)
})
