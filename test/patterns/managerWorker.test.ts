import test from "ava"
import type { RankFailed } from "rankflow"
import { onRanks } from "../helpers.ts"
import { taskValue, type FarmArgs } from "../fixtures/patterns.ts"

type Farm = { results: Array<{ index: number; value: number }>; tasksPerWorker: number[]; arrivals: number[] }

for (const ranks of [1, 2, 3, 4, 8])
  test(`every task's result comes back in task order, as the serial loop computes it (${ranks} ranks)`, async (t) => {
    const tasks = 203
    const [farm] = await onRanks<Farm | null>(ranks, "patterns.ts", "farm", { tasks } satisfies FarmArgs)
    t.deepEqual(
      farm!.results,
      Array.from({ length: tasks }, (_, i) => ({ index: i, value: taskValue(i) })),
    )
    t.is(farm!.tasksPerWorker.length, Math.max(1, ranks - 1))
    t.is(farm!.tasksPerWorker.reduce((a, b) => a + b), tasks)
    t.deepEqual([...farm!.arrivals].sort((a, b) => a - b), farm!.results.map((_, i) => i)) // onResult saw each task once
  })

test("any rank can manage, with any prefetch, and no tasks is no work", async (t) => {
  const managed = await onRanks<Farm | null>(4, "patterns.ts", "farm", { tasks: 10, manager: 2, prefetch: 0 } satisfies FarmArgs)
  t.deepEqual(managed.map((r) => r === null), [true, true, false, true])
  t.deepEqual(managed[2]!.results.map((r) => r.value), Array.from({ length: 10 }, (_, i) => taskValue(i)))
  const none = await onRanks<Farm | null>(3, "patterns.ts", "farm", { tasks: 0, prefetch: 3 } satisfies FarmArgs)
  t.deepEqual(none[0], { results: [], tasksPerWorker: [0, 0], arrivals: [] })
})

test("tasks are dealt on demand: a worker 30× slower than the others gets far fewer of them", async (t) => {
  const [counts] = await onRanks<number[] | null>(4, "patterns.ts", "unevenFarm", 120)
  const [slow, ...fast] = counts!
  t.is(slow! + fast.reduce((a, b) => a + b), 120)
  // A static deal gives each worker 40. On demand the slow one gets about 120 / 61 ≈ 2 (+ its queue) when
  // sleeps are exact; on a loaded machine short sleeps stretch, so the bound leaves room: under half.
  for (const f of fast) t.true(slow! * 2 < f, `slow worker ${slow}, fast ${f}`)
})

for (const [ranks, group] of [[5, 2], [7, 3], [1, 4]] as const)
  test(`a farm of pipelines: each task is a heat run on a group of ${group} ranks (${ranks} ranks), equal to one rank's run bit for bit`, async (t) => {
    const alphas = [0.5, 1, 1.5, 2, 2.5]
    const [got] = await onRanks<Array<{ alpha: number; error: number; field: number[] }> | null>(ranks, "patterns.ts", "heatFarm", { group, alphas })
    const [serial] = await onRanks<Array<{ alpha: number; error: number; field: number[] }> | null>(1, "patterns.ts", "heatFarm", { group: 1, alphas })
    t.deepEqual(got!.map((r) => r.alpha), alphas)
    for (const r of got!) t.true(r.error < 1e-4, `alpha ${r.alpha}: error ${r.error}`)
    t.deepEqual(got, serial)
  })

test("a task that throws fails the run with the worker's rank and the task's stack", async (t) => {
  const error = await t.throwsAsync<RankFailed>(onRanks(3, "patterns.ts", "failingFarm"))
  t.is(error!.failures.length, 1)
  const [failure] = error!.failures
  t.true(failure!.rank === 1 || failure!.rank === 2)
  t.like(failure, { name: "RangeError", message: "task 3 cannot be done" })
  t.regex(failure!.stack, /badTask[\s\S]*fixtures\/patterns\.ts:\d+/)
})

test("bad farms are refused on every rank, naming what is wrong", async (t) => {
  const group = await onRanks<{ tag: string; message: string }>(4, "patterns.ts", "badFarm", "group")
  for (const e of group) t.deepEqual(e, { tag: "InvalidArgument", message: "managerWorker: group = 2 does not divide the 3 ranks besides the manager into whole worker groups" })
  const manager = await onRanks<{ tag: string; message: string }>(2, "patterns.ts", "badFarm", "manager")
  for (const e of manager) t.is(e.message, "managerWorker: manager = 2 must be a rank of the communicator, 0 … 1")
  const disagree = await onRanks<{ tag: string; message: string }>(4, "patterns.ts", "badFarm", "disagree")
  for (const [rank, e] of disagree.entries())
    t.is(e.message, `managerWorker: [manager, group] = [0, ${rank === 0 ? 1 : 3}] differs between ranks (rank 0: [0, 1], rank 1: [0, 3]): every rank must pass the same`)
  const [tasks] = await onRanks<{ tag: string; message: string }>(1, "patterns.ts", "badFarm", "tasks")
  t.is(tasks!.message, "managerWorker: tasks = undefined must be given on the manager (rank 0)")
})
