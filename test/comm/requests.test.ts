// The request families: waitAny/testAny/waitSome/testSome, cancel, REQUEST_NULL and
// completed requests, persistent requests. Translated from mpi4py's test_request.py and
// test_p2p_obj.py (testIRecvAndSend's waitany/testany, testWaitSomeRecv, testTestSomeRecv,
// testWaitSomeSend, testCancel), run on 1–4 ranks.
import test from "ava"
import { onRanks } from "../helpers.ts"

for (const ranks of [1, 2, 3, 4]) {
  test(`waitAny and testAny report each receive once, then UNDEFINED (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "anyFamilies")
    for (const [rank, r] of results.entries()) {
      t.deepEqual(r.waits, [0, 1, 2].map((i) => [i, `m${i}`, i + 1, rank, true]))
      t.deepEqual(r.waitEnd, [true, undefined, true, true])
      t.deepEqual(r.first, [true, false], "testAny before any message: not done")
      t.deepEqual(r.tests, [0, 1, 2].map((i) => [i, `t${i}`, true]))
      t.deepEqual(r.last, [true, true], "testAny with nothing active: done, index UNDEFINED")
    }
  })

  test(`waitSome and testSome report exactly the completed group, receives and synchronous sends (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "someFamilies")
    for (const [rank, r] of results.entries()) {
      t.deepEqual(r.waited, [
        { indices: [5], values: ["abc"], tags: [5], sources: [rank] },
        { indices: [1, 2, 3], values: ["abc", "abc", "abc"], tags: [1, 2, 3], sources: [rank, rank, rank] },
        { indices: [0, 4], values: ["abc", "abc"], tags: [0, 4], sources: [rank, rank] },
      ])
      t.true(r.waitedEnd as boolean)
      t.deepEqual(r.empty, [[], []])
      t.deepEqual(r.tested, [[5], [], [1, 2, 3], [], [0, 4]])
      t.is(r.testedEnd, undefined)
      t.deepEqual(r.sends, [[5], [1, 2, 3], [0, 4]])
      t.is(r.sendsEnd, undefined)
    }
  })

  test(`waitAny takes messages from every rank in arrival order (${ranks} ranks)`, async (t) => {
    const results = await onRanks<number[]>(ranks, "vocab.ts", "waitAnyFromAll")
    for (const [rank, got] of results.entries())
      t.deepEqual(got, Array.from({ length: ranks }, (_, s) => rank * 1000 + s).filter((_, s) => s !== rank))
  })

  test(`cancel withdraws an unmatched receive only; collectives refuse it (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "cancelling")
    for (const r of results) {
      t.deepEqual(r.first, { value: undefined, cancelled: true, done: true })
      t.is(r.later, "after", "a cancelled receive takes no message")
      t.deepEqual(r.second, { value: "matched", cancelled: false, tag: 41 })
      t.true(r.remote as boolean)
      t.is(r.collective, "InvalidArgument")
    }
  })

  test(`REQUEST_NULL, PROC_NULL receives and completed requests (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "nullAndCompleted")
    for (const r of results)
      t.deepEqual(r, {
        nullValue: undefined,
        nullStatus: [true, true, 0, true, false],
        activeBefore: true,
        activeAfter: false,
        once: [1, 2],
        again: [1, 2],
        tag: 9,
        procNull: [true, true],
      })
  })

  test(`persistent requests repeat a ring shift; starting an active one is refused (${ranks} ranks)`, async (t) => {
    const steps = 5
    const results = await onRanks<Record<string, unknown>>(ranks, "vocab.ts", "persistent", steps)
    for (const [rank, r] of results.entries()) {
      const left = (rank - 1 + ranks) % ranks
      t.deepEqual(r.inactive, [false, false])
      t.deepEqual(r.seen, Array.from({ length: steps }, (_, s) => left * 100 + s))
      t.is(r.refused, "InvalidArgument")
      t.deepEqual(r.got, ["x", "x", "x"])
      t.deepEqual(r.anyRounds, [[left, true], [left, true]])
      t.is(r.nullPeer, undefined)
      t.deepEqual(r.afterActive, [false, false])
    }
  })
}
