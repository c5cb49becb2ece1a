// Ranks that call different collectives (or one with different roots) fail at the call, naming both calls, before any rank returns a value.
import test from "ava"
import { onRanks, runProgram } from "../helpers.ts"
import { RankFailed } from "rankflow"

const CASES = {
  "bcast from root 0 on rank 0, from root 1 elsewhere": {
    program: "test/fixtures/mismatchedRoots.ts",
    calls: [/bcast \(root 0, collective #0\)/, /bcast \(root 1, collective #0\)/],
  },
  "bcast on rank 0, reduce elsewhere": {
    program: "test/fixtures/mismatchedOps.ts",
    calls: [/bcast \(root 0, collective #0\)/, /reduce \(root 0, collective #0\)/],
  },
}

for (const ranks of [2, 3, 4]) {
  for (const [name, { program, calls }] of Object.entries(CASES)) {
    test(`${name}: CollectiveMismatch at the call naming both calls, no rank prints a value (${ranks} ranks)`, async (t) => {
      const run = await runProgram(program, ["--ranks", String(ranks)])
      t.is(run.code, 1, run.stderr)
      t.notRegex(run.stdout, /got/, "a rank returned from the mismatched call")
      const line = run.stderr.split("\n").find((l) => l.includes("collective mismatch"))
      t.truthy(line, run.stderr)
      t.regex(line!, /rank \d+: collective mismatch: this rank called \w+ \(root \d, collective #0\) but rank \d+ called \w+ \(root \d, collective #0\)/)
      for (const call of calls) t.regex(line!, call)
      t.notRegex(run.stderr, /barrier|end of its program/, "named a call the user never wrote")
    })
  }
}

test("every rank involved detects the mismatch itself, at the call (4 ranks, roots 0 / 1 / 1 / 1)", async (t) => {
  const run = await runProgram("test/fixtures/mismatchSeenByEveryRank.ts", ["--ranks", "4"])
  const lines = run.stdout.trim().split("\n")
  t.is(lines.length, 4, run.stdout + run.stderr)
  for (const [r, line] of lines.entries()) {
    const [mine, theirs] = r === 0 ? [0, 1] : [1, 0]
    t.regex(line, new RegExp(`^rank ${r}: CollectiveMismatch: rank ${r}: collective mismatch: this rank called bcast \\(root ${mine}, collective #0\\) but rank \\d called bcast \\(root ${theirs}, collective #0\\)$`))
  }
})

test("a scalar bcast that agrees still returns the root's value on every rank (4 ranks, every root)", async (t) => {
  const results = await onRanks<string[]>(4, "collectives.ts", "bcastEveryRoot")
  for (const got of results) t.deepEqual(got, ["from 0", "from 1", "from 2", "from 3"])
})

test("mismatched collectives are still a RankFailed for runRanks callers", async (t) => {
  const error = await t.throwsAsync(onRanks(4, "collectives.ts", "mismatchedCalls", "root"), { instanceOf: RankFailed })
  t.is(error!.failures[0]!.name, "CollectiveMismatch")
})
