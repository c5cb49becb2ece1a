// Built-in reduction ops refuse values they cannot reduce, at the call, naming the op, the rank and the value.
import test from "ava"
import { RankFailed } from "rankflow"
import { onRanks } from "../helpers.ts"

const NUMBERS = "numbers, bigints or typed arrays"
const LOGICAL = "booleans, numbers, bigints or typed arrays (non-zero is true)"
const BITS = "numbers (as 32-bit integers), bigints or integer typed arrays"
const PAIRS = "{ value, index } pairs of numbers, or a typed array of [value, index, value, index, …] (even length)"

for (const ranks of [1, 2, 3]) {
  test(`every built-in op refuses what it cannot reduce, in every call that takes an op (${ranks} ranks)`, async (t) => {
    const results = await onRanks<{ refusals: string[]; after: number }>(ranks, "reduceInputs.ts", "refusedEverywhere")
    for (const [r, got] of results.entries()) {
      const refused = (call: string, op: string, what: string, accepts: string): string =>
        `ReduceTypeMismatch: rank ${r}: ${call}: ${op} cannot reduce ${what}; ${op} takes ${accepts}`
      t.deepEqual(got.refusals, [
        refused("allreduce", "SUM", "an Array of 2", NUMBERS),
        refused("allreduce", "SUM", "an object", NUMBERS),
        refused("allreduce", "MAX", "a string", NUMBERS),
        refused("allreduce", "MIN", "a boolean", NUMBERS),
        refused("allreduce", "PROD", "an object (Map)", NUMBERS),
        refused("allreduce", "LAND", "undefined", LOGICAL),
        refused("allreduce", "LOR", "null", LOGICAL),
        refused("allreduce", "BAND", "a Float64Array(1)", BITS),
        refused("allreduce", "BOR", "an object (DataView)", BITS),
        refused("allreduce", "MAXLOC", "an Array of 2", PAIRS),
        refused("allreduce", "MINLOC", "a Float64Array(3)", PAIRS),
        refused("allreduce", "MAXLOC", "a number", PAIRS),
        refused("reduce", "SUM", "an Array of 1", NUMBERS),
        refused("scan", "SUM", "a string", NUMBERS),
        refused("exscan", "MIN", "an object", NUMBERS),
        refused("iallreduce", "SUM", "an Array of 1", NUMBERS),
        refused("allreduce", "BAND", "a Float64Array(4)", BITS),
      ], `rank ${r}`)
      t.is(got.after, (ranks * (ranks + 1)) / 2, "the communicator still works")
    }
  })
}

test("one rank's wrong value fails the run with that rank's ReduceTypeMismatch", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "reduceInputs.ts", "oneRankWrong"), { instanceOf: RankFailed })
  t.like(error!.failures[0], { rank: 2, name: "ReduceTypeMismatch", message: `rank 2: allreduce: SUM cannot reduce an Array of 2; SUM takes ${NUMBERS}` })
})

test("ranks passing values of different kinds to a built-in op fail with CollectiveMismatch naming both kinds", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "reduceInputs.ts", "kindsDiffer"), { instanceOf: RankFailed })
  t.is(error!.failures[0]!.name, "CollectiveMismatch")
  t.regex(error!.failures[0]!.message, /in allreduce \(root 0, collective #0\): this rank contributes a (number|bigint), rank [01] contributes a (bigint|number)/)
})

test("a range pipeline's default sum refuses objects instead of concatenating '[object Object]'", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "reduceInputs.ts", "pipelineOfObjects"), { instanceOf: RankFailed })
  // Refused on the rank that computed the object, before anything is collected: either rank may be first.
  const failure = error!.failures[0]!
  t.like(failure, { name: "ReduceTypeMismatch", message: `rank ${failure.rank}: allreduce: SUM cannot reduce an object; SUM takes ${NUMBERS}` })
})
