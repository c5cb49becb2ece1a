import { availableParallelism } from "node:os"
import test from "ava"
import { InvalidOptions, ParamNameConflict } from "rankflow"
import { nearestOption, parseRuntimeOptions } from "../../src/cli/options.ts"
import { runProgram } from "../helpers.ts"

test("--ranks defaults to the number of cores; -n, --ranks and mpirun's -np set it", (t) => {
  t.is(parseRuntimeOptions([]).ranks, availableParallelism())
  t.is(parseRuntimeOptions(["--ranks", "8"]).ranks, 8)
  t.is(parseRuntimeOptions(["--ranks=3"]).ranks, 3)
  t.is(parseRuntimeOptions(["-n", "5"]).ranks, 5)
  t.is(parseRuntimeOptions(["-np", "6"]).ranks, 6)
  t.is(parseRuntimeOptions(["--timeout", "2.5"]).timeout, 2.5)
  t.is(parseRuntimeOptions(["--deadlock-after", "0"]).deadlockAfter, 0)
  t.is(parseRuntimeOptions(["--deadlockAfter", "3"]).deadlockAfter, 3, "the camelCase spelling is an alias")
})

for (const [argv, message] of [
  [["--ranks", "0"], "--ranks: expected a positive integer, got '0'"],
  [["--ranks", "abc"], "--ranks: expected a positive integer, got 'abc'"],
  [["--ranks", "2.5"], "--ranks: expected a positive integer, got '2.5'"],
  [["--ranks=-3"], "--ranks: expected a positive integer, got '-3'"],
  [["--ranks", "0x10"], "--ranks: expected a positive integer, got '0x10'"],
  [["--ranks", "1e3"], "--ranks: expected a positive integer, got '1e3'"],
  [["--ranks", " 7 "], "--ranks: expected a positive integer, got ' 7 '"],
  [["--ranks"], "--ranks: expected a value"],
  [["--timeout", "0"], "--timeout: expected a positive number of seconds, got '0'"],
  [["--timeout", "soon"], "--timeout: expected a positive number of seconds, got 'soon'"],
  [["--trace=maybe"], "--trace: expected true or false or a FILE.json to write the timeline to, got 'maybe'"],
  [["--progress=out.json"], "--progress: expected true or false, got 'out.json'"],
] as const) {
  test(`${argv.join(" ")} is rejected, naming the option and the value`, (t) => {
    const error = t.throws(() => parseRuntimeOptions(argv), { instanceOf: InvalidOptions })
    t.is(error!.message, message)
  })
}

test("booleans take --x, --x=true, --x=false and --no-x; the last one given wins", (t) => {
  t.true(parseRuntimeOptions(["--trace"]).trace)
  t.true(parseRuntimeOptions(["--trace=true"]).trace)
  t.false(parseRuntimeOptions(["--trace=false"]).trace)
  t.false(parseRuntimeOptions(["--trace", "--no-trace"]).trace)
  t.is(parseRuntimeOptions(["--trace"]).traceFile, undefined)
  t.deepEqual([parseRuntimeOptions(["--trace=out/t.json"]).trace, parseRuntimeOptions(["--trace=out/t.json"]).traceFile], [true, "out/t.json"])
  t.true(parseRuntimeOptions(["--no-progress", "--progress"]).progress)
  const extra = { verbose: { type: "boolean" } } as const
  t.is(parseRuntimeOptions(["--no-verbose"], extra).extra.verbose, false)
  t.is(parseRuntimeOptions([], extra).extra.verbose, undefined)
})

test("a program's flags answer to every spelling they declare; a repeatable flag keeps every value", (t) => {
  const extra = { maxIter: { type: "string", spellings: ["max-iter", "maxIter"] }, size: { type: "string", multiple: true } } as const
  t.is(parseRuntimeOptions(["--max-iter", "4"], extra).extra.maxIter, "4")
  t.is(parseRuntimeOptions(["--maxIter=5"], extra).extra.maxIter, "5")
  t.deepEqual(parseRuntimeOptions(["--size", "1", "--size=2"], extra).extra.size, ["1", "2"])
})

test("what follows -- goes to the program as positional arguments, options included", (t) => {
  const options = parseRuntimeOptions(["--ranks", "2", "--", "in.csv", "--ranks", "-x"])
  t.is(options.ranks, 2)
  t.deepEqual(options.positionals, ["in.csv", "--ranks", "-x"])
  t.deepEqual(parseRuntimeOptions(["--"]).positionals, [])
  t.true(parseRuntimeOptions(["--version"]).version)
})

test("an unknown option is refused with the nearest known one; a stray argument points at --", (t) => {
  t.is(t.throws(() => parseRuntimeOptions(["--rank", "2"]))!.message, "unknown option '--rank' (did you mean --ranks?); see --help for the options")
  t.regex(t.throws(() => parseRuntimeOptions(["--tiemout", "2"]))!.message, /did you mean --timeout\?/)
  t.regex(t.throws(() => parseRuntimeOptions(["--deadlock", "2"]))!.message, /did you mean --deadlock-after\?/)
  t.notRegex(t.throws(() => parseRuntimeOptions(["--zebra"]))!.message, /did you mean/)
  t.regex(t.throws(() => parseRuntimeOptions(["-x"]))!.message, /unknown option '-x'/)
  t.regex(t.throws(() => parseRuntimeOptions(["extra"]))!.message, /unexpected argument 'extra': a program's own arguments go after '--'/)
  t.is(nearestOption("iters", ["iterations", "items"]), "items")
  t.is(nearestOption("mode", ["ranks", "timeout"]), undefined)
})

test("a program flag spelled like a runtime option is refused, naming both", (t) => {
  const error = t.throws(() => parseRuntimeOptions([], { timeout: { type: "string" } }), { instanceOf: ParamNameConflict })
  t.like(error, { param: "timeout", option: "timeout", owner: "runtime" })
})

test("a program given bad options exits 2 with one line naming the problem, starting no rank", async (t) => {
  for (const [args, line] of [
    [["--ranks", "0"], /^rankflow: --ranks: expected a positive integer, got '0'\n$/],
    [["--ranks", "abc"], /^rankflow: --ranks: expected a positive integer, got 'abc'\n$/],
    [["--rank", "2"], /^rankflow: unknown option '--rank' \(did you mean --ranks\?\); see --help for the options\n$/],
    [["--bogus"], /^rankflow: unknown option '--bogus'; see --help for the options\n$/],
  ] as const) {
    const run = await runProgram("examples/hello.ts", [...args])
    t.is(run.code, 2, args.join(" "))
    t.regex(run.stderr, line)
    t.is(run.stdout, "") // no rank said hello
  }
})

test("--help names the program and lists each option once; --version prints rankflow's", async (t) => {
  const run = await runProgram("examples/hello.ts", ["--help"])
  t.is(run.code, 0)
  t.regex(run.stdout, /^usage: examples\/hello\.ts \[options\] \[-- arguments\]$/m)
  t.regex(run.stdout, /--ranks <n>/)
  t.is(run.stdout.match(/--timeout/g)?.length, 1)
  const { version } = (await import("../../package.json", { with: { type: "json" } })).default as { version: string }
  const v = await runProgram("examples/hello.ts", ["--version"])
  t.is(v.code, 0)
  t.is(v.stdout, `rankflow ${version}\n`)
})
