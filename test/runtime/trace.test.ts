// --trace: every rank counts what it sent (by lane), its waits and its collectives; the supervisor reports them.
import test from "ava"
import { runProgram } from "../helpers.ts"

/** The report's rows of per-rank columns, by rank. */
function rows(stderr: string): string[][] {
  return [...stderr.matchAll(/^ +(\d+) +(\d+) +(\S+ \S+) +(\d+) +(\d+) +(\d+) +(≈?[\d.]+) +(\d+) +(.*)$/gm)].map((m) => m.slice(1))
}

test("known traffic is counted exactly: messages, bytes and lanes, collectives, and who sent to whom", async (t) => {
  const run = await runProgram("test/fixtures/traced.ts", ["--ranks", "2", "--trace"])
  t.is(run.code, 0, run.stderr)
  const [zero, one] = rows(run.stderr)
  // 3 × 80 B arrays + 2 numbers (8 B) + a serialized object (26 B in the light encoding, src/comm/encode.ts),
  // then a barrier message in each of 2 barriers.
  t.deepEqual([zero![1], zero![2], zero![3], zero![4], zero![5], zero![8]], ["8", "282 B", "5", "2", "1", "barrier 2"])
  t.deepEqual([one![1], one![3], one![7], one![8]], ["2", "2", "8", "barrier 2"]) // 6 receives and 2 barriers block
  t.regex(run.stderr, /^0 +- +8$/m)
  t.regex(run.stderr, /^1 +2 +-$/m)
  t.notRegex(run.stderr, /≈/, "a few messages: every wait timed, none estimated")
})

test("the hand-written heat equation on 3 ranks: neighbours exchange as many messages each way, the middle rank twice as many", async (t) => {
  const run = await runProgram("examples/halo.ts", ["--ranks", "3", "--trace"])
  t.is(run.code, 0, run.stderr)
  const matrix = [...run.stderr.matchAll(/^([012]) +(\S+) +(\S+) +(\S+)$/gm)].map((m) => m.slice(2).map(Number))
  t.is(matrix[0]![1], matrix[1]![0])
  t.is(matrix[1]![2], matrix[2]![1])
  t.true(matrix[0]![1]! > 1000 * matrix[0]![2]!) // ranks 0 and 2 meet only in collectives
  const sent = rows(run.stderr).map((r) => Number(r[1]))
  t.true(Math.abs(sent[1]! / sent[0]! - 2) < 0.01, `${sent}`)
  // Past each pair's first 1024 messages, waits are timed one in 16 (as the timeline's): the waiting time is an estimate.
  t.true(rows(run.stderr).every((r) => r[6]!.startsWith("≈")), run.stderr)
  t.regex(run.stderr, /^≈: estimated from the \d+ of \d+ waits timed/m)
})

test("without --trace nothing is counted or reported", async (t) => {
  const run = await runProgram("test/fixtures/traced.ts", ["--ranks", "2"])
  t.is(run.code, 0, run.stderr)
  t.is(run.stderr, "")
})
