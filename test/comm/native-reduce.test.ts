// The native allreduce (src/comm/nativeReduce.ts) without a transport: a simulated allgather over
// N ranks. Its fold must be the engine's combining tree (checked with a non-associative op against
// an independent recursive definition), values that do not fit must send every rank to the engine's
// algorithm, and ranks contributing different shapes must fail with ShapeMismatch.
// (test/mpi/comm.test.ts compares it with the engine on threads, bit for bit, over MPI.)
import test from "ava"
import { type ElementwiseOp, MAX, SUM } from "rankflow"
import { ShapeMismatch } from "../../src/comm/collectives.ts"
import { NativeAllreduce, NOT_NATIVE, OutOfStep } from "../../src/comm/nativeReduce.ts"
import type { ReduceOp } from "../../src/comm/ops.ts"

/**
 * N ranks' natives bound to one simulated allgather. A round runs every rank's call twice: while
 * `capturing`, a call records the rank's slot and throws `CAPTURED` (the other ranks have not
 * contributed yet); then every call reads the captured slots, in rank order, and folds.
 */
class SimulatedJob {
  private slots: Uint8Array[] = []
  private capturing = true
  /** How many times a native bound the allgather. */
  binds = 0
  readonly natives: NativeAllreduce[]

  constructor(size: number) {
    this.natives = Array.from({ length: size }, () => new NativeAllreduce(size, this.bind))
  }

  private bind = (send: Uint8Array, recv: Uint8Array) => {
    this.binds++
    return (): void => {
      if (this.capturing) {
        this.slots.push(send.slice())
        throw CAPTURED
      }
      this.slots.forEach((s, r) => recv.set(s, r * send.byteLength))
    }
  }

  /** Every rank's allreduce of values[rank]. */
  allreduce(
    values: ReadonlyArray<unknown>,
    op: ReduceOp<unknown> | ElementwiseOp,
    into: (rank: number) => Float64Array | null = () => null,
    seqOf: (rank: number) => number = () => 0,
  ): unknown[] {
    this.capture(values, op, seqOf)
    return values.map((v, rank) => this.natives[rank]!.allreduce(v, op as ReduceOp<unknown>, into(rank), seqOf(rank)))
  }

  /** Every rank contributes its slot; the next calls fold. */
  capture(values: ReadonlyArray<unknown>, op: ReduceOp<unknown> | ElementwiseOp, seqOf: (rank: number) => number = () => 0): void {
    this.slots = []
    this.capturing = true
    values.forEach((v, rank) => {
      try {
        this.natives[rank]!.allreduce(v, op as ReduceOp<unknown>, null, seqOf(rank))
      } catch (error) {
        if (error !== CAPTURED) throw error
      }
    })
    this.capturing = false
  }
}
const CAPTURED = new Error("captured")

/** Every rank's allreduce of values[rank] through a simulated allgather. */
const simulate = (
  values: ReadonlyArray<unknown>,
  op: ReduceOp<unknown> | ElementwiseOp,
  into?: (rank: number) => Float64Array | null,
  seqOf?: (rank: number) => number,
): unknown[] => new SimulatedJob(values.length).allreduce(values, op, into, seqOf)

/** The engine's combining order, defined independently: the left block is the largest power of two below the count. */
function tree(values: ReadonlyArray<number>, concat: (a: number, b: number) => number, lo = 0, hi = values.length): number {
  if (hi - lo === 1) return values[lo]!
  let half = 1
  while (half * 2 < hi - lo) half *= 2
  return concat(tree(values, concat, lo, lo + half), tree(values, concat, lo + half, hi))
}

const notAssociative = { concat: (a: number, b: number) => a * 3 - b / 2 + 0.25 } as unknown as ReduceOp<unknown> & { concat: (a: number, b: number) => number }

for (const size of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`numbers fold in the engine's tree order on ${size} ranks (a non-associative op shows the order), the same bits on every rank`, (t) => {
    const values = Array.from({ length: size }, (_, r) => (r + 1) * 1.1 ** r)
    const results = simulate(values, notAssociative)
    const expected = tree(values, notAssociative.concat)
    for (const got of results) t.is(Object.is(got, expected) ? expected : got, expected)
    // Sums of doubles of very different sizes: exactly the tree's sum.
    const skewed = Array.from({ length: size }, (_, r) => [1e16, 1, -1e16, 3.5, 1e-3, -7, 2 ** 60, 0.1][r]!)
    t.deepEqual(simulate(skewed, SUM as ReduceOp<unknown>), Array(size).fill(tree(skewed, (a, b) => a + b)))
  })
}

test("small typed arrays fold elementwise in the same order, into a fresh array or the one given; inputs untouched", (t) => {
  const values = [Float64Array.of(1e16, 1), Float64Array.of(1, 2), Float64Array.of(-1e16, 3)]
  const copies = values.map((v) => v.slice())
  const fresh = simulate(values, SUM as ReduceOp<unknown>) as Float64Array[]
  const expected = Float64Array.of(1e16 + 1 + -1e16, 6)
  for (const got of fresh) t.deepEqual(got, expected)
  t.deepEqual(values, copies)
  const outs = values.map(() => new Float64Array(2))
  const into = simulate(values, SUM as ReduceOp<unknown>, (r) => outs[r]!)
  into.forEach((got, r) => t.is(got, outs[r]))
  t.deepEqual(outs, [expected, expected, expected])
  // -0 against 0: whatever MAX's own rule gives for (lower, higher), on every rank.
  const maxOfZeros = (MAX as unknown as { concat: (a: number, b: number) => number }).concat(-0, 0)
  t.deepEqual(simulate([-0, 0], MAX as ReduceOp<unknown>).map((x) => Object.is(x, maxOfZeros)), [true, true])
})

test("values that do not fit a slot (on every rank) go to the engine's algorithm: NOT_NATIVE everywhere", (t) => {
  t.deepEqual(simulate([new Float64Array(9), new Float64Array(9)], SUM as ReduceOp<unknown>), [NOT_NATIVE, NOT_NATIVE])
  t.deepEqual(simulate([1n, 2n], SUM as ReduceOp<unknown>), [NOT_NATIVE, NOT_NATIVE])
  t.deepEqual(simulate(["a", "b"], { concat: (a: string, b: string) => a + b } as unknown as ReduceOp<unknown>), [NOT_NATIVE, NOT_NATIVE])
})

test("ranks contributing different kinds or lengths fail with ShapeMismatch on every rank, naming a peer", (t) => {
  for (const values of [[1, Float64Array.of(1)], [Float64Array.of(1, 2), Float64Array.of(1)], [1, new Float64Array(100)], [Float32Array.of(1), Float64Array.of(1)]]) {
    values.forEach((_, rank) => {
      let error: unknown
      try {
        simulateOne(values, rank)
      } catch (e) {
        error = e
      }
      t.true(error instanceof ShapeMismatch, String(error))
      t.is((error as ShapeMismatch).peer, 1 - rank)
      t.regex((error as ShapeMismatch).detail, /^this rank contributes .*, rank \d contributes /)
    })
  }
})

/** simulate() but rethrowing rank `rank`'s error only. */
function simulateOne(values: ReadonlyArray<unknown>, rank: number): unknown {
  const job = new SimulatedJob(values.length)
  job.capture(values, SUM)
  return job.natives[rank]!.allreduce(values[rank], SUM as ReduceOp<unknown>, null)
}

test("a slot of another call (its sequence number differs: a rank called another collective first) fails with OutOfStep naming that rank and its call", (t) => {
  // Rank 2 is one call ahead of ranks 0 and 1.
  const error = t.throws(() => simulate([1, 2, 3], SUM as ReduceOp<unknown>, () => null, (rank) => (rank === 2 ? 8 : 7)), { instanceOf: OutOfStep })
  t.is(error!.peer, 2)
  t.is(error!.seq, 8)
  t.deepEqual(simulate([1, 2, 3], SUM as ReduceOp<unknown>, () => null, () => 7), [6, 6, 6], "the same call number on every rank folds")
})

test("a communicator's native allreduce binds its allgather once and serves calls of every kind in turn", (t) => {
  const job = new SimulatedJob(3)
  t.is(job.binds, 3, "one bind per rank, at construction")
  const concatStrings = { concat: (a: string, b: string) => a + b } as unknown as ReduceOp<unknown>
  for (let round = 0; round < 2; round++) {
    t.deepEqual(job.allreduce([1.5, 2, 0.25], SUM, undefined, () => round), [3.75, 3.75, 3.75])
    t.deepEqual(job.allreduce([Float64Array.of(1, 2), Float64Array.of(10, 20), Float64Array.of(100, 200)], SUM), Array(3).fill(Float64Array.of(111, 222)))
    t.deepEqual(job.allreduce([Int32Array.of(5), Int32Array.of(-7), Int32Array.of(3)], MAX), Array(3).fill(Int32Array.of(5)))
    t.deepEqual(job.allreduce([3, 4, 5], notAssociative), Array(3).fill(tree([3, 4, 5], notAssociative.concat)))
    t.deepEqual(job.allreduce([-1, 8, 2], MAX), [8, 8, 8])
    t.deepEqual(job.allreduce(["x", "y", "z"], concatStrings), [NOT_NATIVE, NOT_NATIVE, NOT_NATIVE])
    t.deepEqual(job.allreduce([Uint8Array.of(1, 2), Uint8Array.of(3, 4), Uint8Array.of(5, 6)], SUM), Array(3).fill(Uint8Array.of(9, 12)))
  }
  t.is(job.binds, 3, "never bound again")
})
