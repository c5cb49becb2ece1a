// Jobs larger than the machine or V8 allow are refused before any worker starts, with the limit and why.
import { availableParallelism } from "node:os"
import test from "ava"
import { ResourceLimit } from "rankflow"
import { checkPartitions, checkRanks, rankLimit, THREAD_BYTES } from "../../src/runtime/limits.ts"
import { worldMemoryBytes } from "../../src/transport/memory.ts"
import { runProgram } from "../helpers.ts"

const GiB = 2 ** 30

test("the rank limit is the largest job whose shared rings fit the machine's memory", (t) => {
  for (const total of [1 * GiB, 8 * GiB, 24 * GiB, 256 * GiB]) {
    const { limit, reason } = rankLimit({ total, free: 1024 * GiB }) // threads never bind here
    t.true(worldMemoryBytes(limit).total <= total, `${total}`)
    t.true(worldMemoryBytes(limit + 1).total > total, `${total}`)
    t.regex(reason, new RegExp(`^${limit + 1} ranks need [0-9.]+ GiB of shared memory \\(a ring per pair of ranks`))
  }
})

test("with little free memory, the threads set the limit", (t) => {
  const { limit, reason } = rankLimit({ total: 24 * GiB, free: 100 * THREAD_BYTES })
  t.is(limit, 100)
  t.regex(reason, /each rank's thread needs about 10 MiB/)
  const error = t.throws(() => checkRanks("--ranks", 101, { total: 24 * GiB, free: 100 * THREAD_BYTES }), { instanceOf: ResourceLimit })
  t.like(error, { option: "--ranks", value: 101, limit: 100 })
  t.notThrows(() => checkRanks("--ranks", 100, { total: 24 * GiB, free: 100 * THREAD_BYTES }))
})

test("a pipeline's logical ranks are limited by each thread's heap: 10^7 fit, 10^9 do not", (t) => {
  const heap = 4 * GiB
  t.notThrows(() => checkPartitions(1e7, heap, 20 * GiB))
  const error = t.throws(() => checkPartitions(999_999_999, heap, 20 * GiB), { instanceOf: ResourceLimit })
  t.like(error, { option: "--ranks", value: 999_999_999 })
  t.regex(error!.message, /^--ranks: 999999999 is more than this machine allows \(at most \d+: each logical rank takes about 256 B .*V8's heap holds 4\.0 GiB/)
})

for (const [program, args, message] of [
  ["examples/hello.ts", ["--ranks", "100000"], /^rankflow: --ranks: 100000 is more than this machine allows \(at most \d+: \d+ ranks need [0-9.]+ GiB of shared memory/],
  ["examples/hello.ts", ["--ranks", "999999999"], /^rankflow: --ranks: 999999999 is more than this machine allows \(at most \d+: /],
  ["pipelines/pi.ts", ["--ranks", "999999999"], /^rankflow: --ranks: 999999999 is more than this machine allows \(at most \d+: each logical rank/],
  ["pipelines/pi.ts", ["--ranks", "100000", "--threads", "100000"], /^rankflow: --threads: 100000 is more than this machine allows \(at most \d+: /],
] as const) {
  test(`${program} ${args.join(" ")} exits 2 with one line naming the limit, before any worker starts`, async (t) => {
    const run = await runProgram(program, [...args])
    t.is(run.code, 2, run.stderr)
    t.regex(run.stderr, message)
    t.is(run.stderr.split("\n").length, 2, "one line")
    t.is(run.stdout, "")
    t.true(run.seconds < 30, `${run.seconds} s`) // a bound against the 82 s of starting workers first
  })
}

test("a communicator program with more ranks than cores warns once; a pipeline does not", async (t) => {
  const ranks = String(availableParallelism() + 1)
  const warned = { RANKFLOW_OVERSUBSCRIBE: "" }
  const hello = await runProgram("examples/hello.ts", ["--ranks", ranks], undefined, warned)
  t.is(hello.code, 0, hello.stderr)
  t.is(hello.stderr, `rankflow: warning: ${ranks} ranks on ${availableParallelism()} cores: ranks take turns on a core (measured 3–11× slower); a pipeline (Pipeline.main) runs --ranks as logical ranks on fewer threads; --oversubscribe silences this\n`)
  const acknowledged = await runProgram("examples/hello.ts", ["--ranks", ranks, "--oversubscribe"], undefined, warned)
  t.is(acknowledged.code, 0, acknowledged.stderr)
  t.is(acknowledged.stderr, "")
  const pi = await runProgram("pipelines/pi.ts", ["--ranks", ranks, "--samples", "100000"], undefined, warned)
  t.is(pi.code, 0, pi.stderr)
  t.is(pi.stderr, "")
})
