// Reductions from plain JavaScript, where no type stops a wrong value (test/fixtures/reducePlainJs.mjs):
// values a built-in op cannot reduce fail on the rank that computed them — also when there is a single
// value and nothing is ever combined — naming the rank, the call, the op and the value's kind; a field fold
// whose user op returns a non-number fails too; a missing op is refused before any rank starts.
import test from "ava"
import { runProgram } from "../helpers.ts"

const FIXTURE = "test/fixtures/reducePlainJs.mjs"
const HANG_MS = 120_000
const NUMBERS = "numbers, bigints or typed arrays"

const cases: Array<[string, string]> = [
  ["rangeAllreduce", `allreduce: SUM cannot reduce an object; SUM takes ${NUMBERS}`],
  ["rangeReduce", `reduce: SUM cannot reduce an object; SUM takes ${NUMBERS}`],
  ["rangeScan", `scan: SUM cannot reduce an object; SUM takes ${NUMBERS}`],
  ["dynamic", `reduce: SUM cannot reduce an object; SUM takes ${NUMBERS}`],
  ["items", `allreduce: SUM cannot reduce a string; SUM takes ${NUMBERS}`],
  ["fieldLocal", `allreduce: SUM cannot reduce an object; SUM takes ${NUMBERS}`],
]

for (const [name, message] of cases)
  for (const chunks of name === "fieldLocal" ? [1] : [1, 5]) // a field's values are its blocks: one per rank
    test(`${name} of non-numbers without a fitting op fails with ReduceTypeMismatch naming the rank (${name === "fieldLocal" ? "a value per rank" : `${chunks} value${chunks === 1 ? "" : "s"}`}, 2 ranks)`, async (t) => {
      const run = await runProgram(FIXTURE, ["--ranks", "2", "--case", name, "--chunks", String(chunks)], HANG_MS)
      t.is(run.code, 1, run.stdout)
      const first = run.stderr.split("\n")[0]!
      const rank = /^rankflow: rank (\d) failed: /.exec(first)?.[1]
      t.not(rank, undefined, first)
      t.is(first, `rankflow: rank ${rank} failed: ReduceTypeMismatch: rank ${rank}: ${message}`)
      t.notRegex(run.stdout, /object Object/)
    })

test("a field reduce whose user op returns strings fails with ReduceResultNotNumber naming the rank", async (t) => {
  const run = await runProgram(FIXTURE, ["--ranks", "2", "--case", "fieldUserOp"], HANG_MS)
  t.is(run.code, 1, run.stdout)
  t.regex(run.stderr.split("\n")[0]!, /^rankflow: rank (\d) failed: ReduceResultNotNumber: rank \1: field reduce: user op returned a string where a number was expected/)
})

test("an until loop whose op cannot reduce numbers (MAXLOC) is refused at set-up with ReduceTypeMismatch naming the rank", async (t) => {
  const run = await runProgram(FIXTURE, ["--ranks", "2", "--case", "untilMaxloc"], HANG_MS)
  t.is(run.code, 1, run.stdout)
  t.regex(run.stderr.split("\n")[0]!, /^rankflow: rank (\d) failed: ReduceTypeMismatch: rank \1: until: MAXLOC cannot reduce a number \(the measure\); MAXLOC takes \{ value, index \} pairs/)
})

test("a field reduce() with no op is refused when the pipeline is built (exit 2, no rank started)", async (t) => {
  const run = await runProgram(FIXTURE, ["--ranks", "2", "--case", "fieldNoOp"], HANG_MS)
  t.is(run.code, 2)
  t.is(run.stderr, "rankflow: reduce: op = undefined must be a reduction op (SUM, MAX, …) or an fp-ts Semigroup/Monoid with concat\n")
})

test("numbers still reduce with the default SUM, from one value or several", async (t) => {
  for (const chunks of [1, 5]) {
    const run = await runProgram(FIXTURE, ["--ranks", "2", "--case", "numbers", "--chunks", String(chunks)], HANG_MS)
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, new RegExp(`^result: ${chunks}$`, "m"))
  }
})
