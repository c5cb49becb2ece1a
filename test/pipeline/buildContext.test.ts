// A program's build sees the ranks and threads it runs on, and a 2 × N grid
// runs on 3 ranks (split along N) with the field of a 1-rank run.
import test from "ava"
import { runProgram } from "../helpers.ts"

const report = (stdout: string, key: string): string => new RegExp(`^${key}: (.*)$`, "m").exec(stdout)?.[1] ?? `(no ${key} in ${stdout})`

test("build(params, { ranks, threads }) on every side; a 2 × 41 grid on 3 ranks gives the 1-rank field", async (t) => {
  const one = await runProgram("test/fixtures/buildContext.ts", ["--ranks", "1"])
  t.is(one.code, 0, one.stderr)
  t.is(report(one.stdout, "built"), "1 ranks on 1 threads")
  const three = await runProgram("test/fixtures/buildContext.ts", ["--ranks", "3", "--threads", "2", "--explain"])
  t.is(three.code, 0, three.stderr)
  t.is(report(three.stdout, "built"), "3 ranks on 2 threads")
  t.is(report(three.stdout, "decompose says"), "1 × 3")
  t.regex(three.stdout, /^layout: 1 × 3 ranks \(chosen by extent\)/m)
  t.is(report(three.stdout, "fingerprint"), report(one.stdout, "fingerprint"))
})
