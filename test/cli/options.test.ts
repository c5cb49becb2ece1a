import { availableParallelism } from "node:os"
import test from "ava"
import { InvalidOptions } from "rankflow"
import { parseRuntimeOptions } from "../../src/cli/options.ts"
import { runProgram } from "../helpers.ts"

test("--ranks defaults to the number of cores; -n and --ranks set it", (t) => {
  t.is(parseRuntimeOptions([]).ranks, availableParallelism())
  t.is(parseRuntimeOptions(["--ranks", "8"]).ranks, 8)
  t.is(parseRuntimeOptions(["--ranks=3"]).ranks, 3)
  t.is(parseRuntimeOptions(["-n", "5"]).ranks, 5)
  t.is(parseRuntimeOptions(["--timeout", "2.5"]).timeout, 2.5)
})

for (const [argv, message] of [
  [["--ranks", "0"], "--ranks: expected a positive integer, got '0'"],
  [["--ranks", "abc"], "--ranks: expected a positive integer, got 'abc'"],
  [["--ranks", "2.5"], "--ranks: expected a positive integer, got '2.5'"],
  [["--ranks=-3"], "--ranks: expected a positive integer, got '-3'"],
  [["--ranks", "0x10"], "--ranks: expected a positive integer, got '0x10'"],
  [["--ranks", "1e3"], "--ranks: expected a positive integer, got '1e3'"],
  [["--ranks", " 7 "], "--ranks: expected a positive integer, got ' 7 '"],
  [["--timeout", "0"], "--timeout: expected a positive number of seconds, got '0'"],
  [["--timeout", "soon"], "--timeout: expected a positive number of seconds, got 'soon'"],
] as const) {
  test(`${argv.join(" ")} is rejected, naming the option and the value`, (t) => {
    const error = t.throws(() => parseRuntimeOptions(argv), { instanceOf: InvalidOptions })
    t.is(error!.message, message)
  })
}

test("unknown flags and stray arguments are rejected", (t) => {
  t.regex(t.throws(() => parseRuntimeOptions(["--rank", "2"]))!.message, /Unknown option '--rank'/)
  t.regex(t.throws(() => parseRuntimeOptions(["extra"]))!.message, /extra/)
  t.regex(t.throws(() => parseRuntimeOptions(["--ranks"]))!.message, /--ranks/)
})

test("a program given bad options exits 2 with the error and usage, starting no rank", async (t) => {
  for (const args of [["--ranks", "0"], ["--ranks", "abc"], ["--bogus"]]) {
    const run = await runProgram("examples/hello.ts", args)
    t.is(run.code, 2, args.join(" "))
    t.regex(run.stderr, /^rankflow: .*\n\nusage: /)
    t.is(run.stdout, "") // no rank said hello
  }
})

test("--help prints the usage and exits 0", async (t) => {
  const run = await runProgram("examples/hello.ts", ["--help"])
  t.is(run.code, 0)
  t.regex(run.stdout, /--ranks <n>/)
})
