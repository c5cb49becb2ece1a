import { execFileSync } from "node:child_process"
import test from "ava"
import { ROOT, runProgram } from "../helpers.ts"
import { onRanks } from "../helpers.ts"

test("tsx program.ts --ranks 4 re-launches the module on 4 ranks that know rank and size", async (t) => {
  const run = await runProgram("examples/hello.ts", ["--ranks", "4"])
  t.is(run.code, 0)
  const lines = run.stdout.trim().split("\n").sort()
  t.deepEqual(lines.map((l) => l.replace(/ on host .*/, "")), [0, 1, 2, 3].map((r) => `Hello from rank ${r} of 4 processes`))
})

test("runRanks returns every rank's result in rank order", async (t) => {
  for (const ranks of [1, 3, 8]) t.deepEqual(await onRanks(ranks, "ranks.ts", "whoAmI"), [...Array(ranks).keys()].map((r) => [r, ranks]))
})

test("a compiled JavaScript entry runs on plain node, importing the built package", async (t) => {
  execFileSync(process.execPath, [`${ROOT}/node_modules/typescript/bin/tsc`, "-p", "tsconfig.build.json"], { cwd: ROOT })
  const run = await runProgram("test/fixtures/hello.js", ["--ranks", "3"])
  t.is(run.code, 0, run.stderr)
  t.deepEqual(run.stdout.trim().split("\n").sort(), ["js rank 0 of 3 got 2", "js rank 1 of 3 got 0", "js rank 2 of 3 got 1"])
})
