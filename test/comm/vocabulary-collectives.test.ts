// sendrecvReplace, reduceScatter/reduceScatterBlock, IN_PLACE collectives, window ops with
// REPLACE/NO_OP, and COMM_SELF (comm.self), on 1–4 ranks. The in-place and reduce-scatter cases
// follow mpi4py's test_cco_buf.py (testReduceScatter, testReduceScatterBlock, the *InPlace methods).
import test from "ava"
import { onRanks } from "../helpers.ts"

for (const ranks of [1, 2, 3, 4]) {
  test(`sendrecvReplace shifts one buffer around the ring, small and large (${ranks} ranks)`, async (t) => {
    for (const n of [3, 100_003]) {
      const results = await onRanks<{ ok: boolean; source: number; count: number; untouched: number[] }>(ranks, "vocab.ts", "sendrecvReplace", n)
      for (const [rank, r] of results.entries())
        t.deepEqual(r, { ok: true, source: (rank - 1 + ranks) % ranks, count: n, untouched: [1, 2] }, `n = ${n}`)
    }
  })

  test(`reduceScatter and reduceScatterBlock equal the matching slices of allreduce, bit for bit (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "reduceScatter")
    for (const [rank, r] of results.entries()) {
      t.true(r.identical as boolean)
      t.is(r.length, rank % 3 === 1 ? 0 : rank + 2)
      t.is(r.type, "Float64Array")
      t.deepEqual(r.block, r.maxes)
      t.deepEqual(r.errors, ranks > 1 ? ["InvalidArgument", "InvalidArgument", "InvalidArgument"] : ["InvalidArgument", "InvalidArgument"])
    }
  })

  test(`every IN_PLACE form gives its out-of-place result (${ranks} ranks)`, async (t) => {
    for (const n of [5, 20_000]) {
      const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "inPlace", n)
      const blocks = Array.from({ length: ranks }, (_, r) => [r, r * 10, r * 100]).flat()
      const scatterCounts = Array.from({ length: ranks }, (_, r) => Math.floor((2 * ranks + 1) / ranks) + (r < (2 * ranks + 1) % ranks ? 1 : 0))
      for (const [rank, r] of results.entries()) {
        const start = scatterCounts.slice(0, rank).reduce((a, b) => a + b, 0)
        t.deepEqual(r, {
          allreduce: true,
          reduce: true,
          scan: true,
          exscan: true,
          allgather: blocks,
          gather: rank === 0 ? blocks : undefined,
          scatterView: true,
          scatter: Array.from({ length: scatterCounts[rank]! }, (_, i) => start + i),
          alltoall: true,
        }, `rank ${rank}, n = ${n}`)
      }
    }
  })

  test(`IN_PLACE misuse is refused with InvalidArgument (${ranks} ranks)`, async (t) => {
    const results = await onRanks<string[]>(ranks, "vocab.ts", "inPlaceMistakes")
    for (const [rank, r] of results.entries())
      // On one rank any length holds one block per rank, and rank 0 is the root.
      t.deepEqual(r, ["InvalidArgument", ranks > 1 ? "InvalidArgument" : "accepted", rank === 0 && ranks > 1 ? "InvalidArgument" : rank === 0 ? "accepted" : "skip"])
  })

  test(`fetchAndOp/accumulate with REPLACE, NO_OP, MAX and SUM; reductions refuse REPLACE and NO_OP (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "windowOps")
    for (const r of results)
      t.deepEqual(r, {
        chain: Array.from({ length: ranks + 1 }, (_, i) => i), // the initial 0 and every rank's number, each seen once
        read: [(ranks - 1) * 3 + 7, (ranks * (ranks + 1)) / 2, 0],
        refused: ["InvalidArgument", "InvalidArgument", "InvalidArgument"],
        bySemigroup: [2, 1],
      })
  })

  test(`comm.self is a communicator of one rank whose messages stay apart from the world's (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "commSelf")
    for (const [rank, r] of results.entries())
      t.deepEqual(r, {
        rank: 0,
        size: 1,
        same: true,
        fromWorld: "world message",
        fromSelf: "self message",
        status: 0,
        collectives: [rank + 5, "b", [rank], rank * 2, [1]],
        split: 1,
        dup: 3,
        world: ranks,
      })
  })
}
