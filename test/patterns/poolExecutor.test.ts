// The pool executor (mpi4py.futures.MPIPoolExecutor's submit/map): Promises on rank 0,
// tasks computed by the other ranks, failures rejecting their own task, shutdown ending the workers.
import test from "ava"
import { onRanks } from "../helpers.ts"

for (const ranks of [1, 2, 3, 4]) {
  test(`submit, map and starmap from async code; shutdown ends the workers (${ranks} ranks)`, async (t) => {
    const n = 25
    const [manager, ...workers] = await onRanks<unknown>(ranks, "pool.ts", "driveFromAsyncCode", n)
    t.deepEqual(workers, Array(ranks - 1).fill("served"))
    t.deepEqual(manager, {
      squares: Array.from({ length: n }, (_, i) => i * i),
      sums: [3, 7],
      oneByOne: [100, 101, 102],
      // Tasks run on the workers only (on one rank, on rank 0 itself); 4 slow tasks per worker reach more than one of them.
      ranks: ranks === 1 ? [0] : ranks === 2 ? [1] : (manager as { ranks: number[] }).ranks,
      workers: Math.max(1, ranks - 1),
      after: "InvalidArgument",
    })
    if (ranks > 2) {
      const seen = (manager as { ranks: number[] }).ranks
      t.true(seen.length > 1 && seen.every((r) => r >= 1 && r < ranks), `tasks ran on ranks ${seen}`)
    }
  })

  test(`a throwing task rejects its Promise with TaskFailed naming its rank and stack (${ranks} ranks)`, async (t) => {
    const [manager, ...workers] = await onRanks<Record<string, unknown>>(ranks, "pool.ts", "failures")
    t.deepEqual(workers, Array(ranks - 1).fill("served"))
    const rank = manager!.rank as number
    t.true(ranks === 1 ? rank === 0 : rank >= 1 && rank < ranks)
    t.deepEqual({ ...manager, rank: 0 }, {
      values: [1, 2, "rejected", 4],
      tag: "TaskFailed",
      isTaskFailed: true,
      rank: 0,
      task: "failing",
      name: "RangeError",
      message: "no 3s here",
      stackNamesFunction: true,
      unregistered: "InvalidArgument",
      promised: ["TaskFailed", "InvalidArgument"],
      still: 81,
    })
  })
}

test("ranks registering different functions fail at once", async (t) => {
  t.deepEqual(await onRanks<string>(3, "pool.ts", "mismatchedFunctions"), ["InvalidArgument", "InvalidArgument", "InvalidArgument"])
})
