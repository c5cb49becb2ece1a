// Synchronous sends (ssend/issend): complete only once the matching receive has started.
// Translated from mpi4py's test_p2p_obj.py (testSSendAndRecv, testISSendAndRecv,
// testIRecvAndSSend, testIRecvAndISSend, testProbe), run on 1–4 ranks.
import test from "ava"
import { DeadlockDetected, RankFailed, runRanks } from "rankflow"
import { fixture, onRanks } from "../helpers.ts"

const MESSAGES: unknown[] = [null, 7, "abc", [1, "two"], { k: new Float64Array([1, 2]) }, new Float64Array(3).fill(2.5), new Int32Array(20_000).fill(9)]

for (const ranks of [1, 2, 3, 4]) {
  test(`issend to PROC_NULL, to itself and around the ring (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Array<Record<string, unknown>>>(ranks, "vocab.ts", "issendAndRecv")
    for (const [rank, perMessage] of results.entries())
      for (const [i, r] of perMessage.entries()) {
        t.true(r.nullActive as boolean, "an issend to PROC_NULL is active until waited on")
        t.false(r.nullAfter as boolean)
        t.false(r.before as boolean, `rank ${rank}: an issend to itself is not complete before its receive`)
        t.false(r.selfActiveAfter as boolean)
        t.false(r.ringActive as boolean)
        t.deepEqual(r.got, MESSAGES[i])
        t.deepEqual(r.fromLeft, MESSAGES[i])
      }
  })

  test(`ssend and issend to receives posted first, in reverse tag order (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Array<{ blocking: unknown[]; nonblocking: unknown[] }>>(ranks, "vocab.ts", "irecvAndSsend")
    for (const perMessage of results)
      for (const [i, r] of perMessage.entries()) {
        t.deepEqual(r.blocking, [MESSAGES[i], MESSAGES[i], MESSAGES[i]])
        t.deepEqual(r.nonblocking, [MESSAGES[i], MESSAGES[i], MESSAGES[i]])
      }
  })

  test(`blocking ssend around a ring of a derived communicator, every kind of value (${ranks} ranks)`, async (t) => {
    const results = await onRanks<{ got: unknown[]; source: number; left: number }>(ranks, "vocab.ts", "ssendKinds")
    for (const r of results) {
      t.deepEqual(r.got, MESSAGES)
      t.is(r.source, r.left, "the status names the sender in the derived communicator's ranks")
    }
  })

  test(`iprobe and probe see an issend to itself, which completes only after the receive (${ranks} ranks)`, async (t) => {
    const results = await onRanks<{ none: boolean; out: Array<{ probed: number[]; beforeRecv: boolean; same: boolean; active: boolean }> }>(ranks, "vocab.ts", "probeIssend")
    for (const [rank, r] of results.entries()) {
      t.true(r.none)
      for (const m of r.out) {
        t.deepEqual(m.probed, [rank, 123])
        t.false(m.beforeRecv)
        t.true(m.same)
        t.false(m.active)
      }
    }
  })
}

test("an issend does not complete on buffering: only when the receiver's recv matches it", async (t) => {
  const [sender, receiver] = await onRanks<unknown>(2, "vocab.ts", "ssendWaitsForReceiver", 20_000)
  t.deepEqual(sender, { eagerDone: true, completedEarly: 0, doneAfter: true })
  t.deepEqual(receiver, ["small", "small", "go"])
})

test("both ranks sending first: completes with send, is reported as a deadlock with ssend", async (t) => {
  t.deepEqual(await onRanks<number>(2, "vocab.ts", "exchangeSendFirst", false), [1, 0])
  const error = await t.throwsAsync(onRanks(2, "vocab.ts", "exchangeSendFirst", true), { instanceOf: DeadlockDetected })
  t.regex(error!.message, /rank 0 waits in send for rank 1 \(tag 1\)/)
  t.regex(error!.message, /rank 1 waits in send for rank 0 \(tag 1\)/)
})

test("an ssend to a rank that never receives is reported as a deadlock, not completed", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "vocab.ts", "ssendNobodyReceives", 0), { instanceOf: DeadlockDetected })
  t.regex(error!.message, /rank 0 waits in send for rank 1 \(tag 3\)/)
})

test("--comm-timeout ends an ssend whose receiver is busy elsewhere, naming rank and peer", async (t) => {
  const error = await t.throwsAsync(
    runRanks({ ranks: 2, module: fixture("vocab.ts"), export: "ssendNobodyReceives", args: 3000, commTimeoutSeconds: 0.5, deadlockSeconds: 0 }),
    { instanceOf: RankFailed },
  )
  t.like(error!.failures[0], { rank: 0, name: "CommTimeout", message: "rank 0: send waiting for rank 1 exceeded 0.5 s" })
})

test("a synchronous message is not overtaken by plain messages sent after it on the same tag", async (t) => {
  for (const size of [0, 10, 20_000]) {
    const [, received] = await onRanks<unknown>(2, "vocab.ts", "syncThenPlainInOrder", size)
    const order = ["first", "second", "third"]
    t.deepEqual(received, { blocking: order, anyTag: order, posted: order, probedFirst: true }, `payload size ${size}`)
  }
})
