// Errors outside a rank's main flow — an unhandled rejection, a throwing
// timer, after the program returned — and thrown values that are not Errors
// fail the job, naming the rank and showing the value; none is dropped.
import test from "ava"
import { RankFailed } from "rankflow"
import { onRanks } from "../helpers.ts"
import { runFault } from "./faultRun.ts"

test("an unhandled rejection after a rank's function returned fails the run (it resolved with the results before)", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "faultRanks.ts", "rejectsLater"), { instanceOf: RankFailed })
  t.like(error!.failures[0], { rank: 1, name: "TypeError", message: "late rejection (after its program returned)" })
  t.regex(error!.failures[0]!.stack, /^TypeError: late rejection \(after its program returned\)\n\s+at .*faultRanks\.ts/)
})

for (const [fault, cause] of [
  ["rejection", "TypeError: late rejection"],
  ["timer", "RangeError: thrown by a timer"],
] as const) {
  test(`a program whose rank 1 has a ${fault} after its top level finished exits 1, naming the rank and the cause`, async (t) => {
    const run = await runFault(fault)
    t.is(run.code, 1, run.stderr)
    t.is(run.firstLine, `rankflow: rank 1 failed: ${cause} (after its program returned)`)
    t.regex(run.stderr.split("\n")[1]!, /^\s+at .*faults\.ts:\d+/)
  })
}

for (const [fault, shown] of [
  ["throw-string", "thrown string: 'a plain string'"],
  ["throw-object", "thrown object: { code: 42, why: 'an object' }"],
  ["throw-undefined", "thrown undefined: undefined"],
] as const) {
  test(`a rank that throws a value that is not an Error (${fault}) shows the value, not [object Object] or a rankflow stack`, async (t) => {
    const run = await runFault(fault)
    t.is(run.code, 1, run.stderr)
    t.is(run.firstLine, `rankflow: rank 1 failed: ${shown}`)
    t.notRegex(run.stderr, /\[object Object\]|rankEntry|supervisor/)
  })
}

test("runRanks reports a thrown null as the value, with no stack from inside rankflow", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "faultRanks.ts", "throwsValue", null), { instanceOf: RankFailed })
  t.like(error!.failures[0], { rank: 1, name: "thrown null", message: "null" })
  t.notRegex(error!.failures[0]!.stack, /\n\s+at /)
})
