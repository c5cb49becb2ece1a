import test from "ava"
import { InvalidArgument, InvalidOptions, Param, ParamNameConflict, Pipeline, Range } from "rankflow"
import { parseRuntimeOptions } from "../../src/cli/options.ts"
import { decodeParams, paramOptions, paramUsage } from "../../src/cli/params.ts"
import { runProgram } from "../helpers.ts"

const declared = {
  maxIter: Param.int(3, "iterations", { min: 1 }),
  verbose: Param.boolean(true, "talk"),
  mode: Param.choice(["fast", "exact"], "fast", "how"),
  sizes: Param.list(Param.int(0, "", { min: 1 }), [8], "sizes"),
  tol: Param.number(1e-6, "tolerance"),
}
const decode = (argv: string[]) => decodeParams(declared, parseRuntimeOptions(argv, paramOptions(declared)).extra)

test("every kind of parameter decodes from its flag, camelCase names in kebab-case or as declared", (t) => {
  t.deepEqual(decode([]), { maxIter: 3, verbose: true, mode: "fast", sizes: [8], tol: 1e-6 })
  t.deepEqual(decode(["--max-iter", "5", "--no-verbose", "--mode", "exact", "--sizes", "1,2", "--sizes=3", "--tol", "1e-3"]), {
    maxIter: 5,
    verbose: false,
    mode: "exact",
    sizes: [1, 2, 3],
    tol: 1e-3,
  })
  t.like(decode(["--maxIter=7", "--verbose=false"]), { maxIter: 7, verbose: false })
  t.like(decode(["--verbose=true"]), { verbose: true })
  t.deepEqual(decode(["--sizes", ""]).sizes, [])
})

test("choices and lists are typed: a choice as the union of its values, a list as an array of its item's type", (t) => {
  const mode: "fast" | "exact" = declared.mode.default
  const sizes: ReadonlyArray<number> = declared.sizes.default
  // @ts-expect-error: a choice's default must be one of its values
  t.throws(() => Param.choice(["a", "b"], "c"))
  t.is(mode, "fast")
  t.deepEqual(sizes, [8])
})

test("a value outside a choice is refused with the allowed values; a list checks each element", (t) => {
  t.is(t.throws(() => decode(["--mode", "slow"]), { instanceOf: InvalidOptions })!.message, "--mode: expected one of fast, exact, got 'slow'")
  t.is(t.throws(() => decode(["--sizes", "4,0"]), { instanceOf: InvalidOptions })!.message, "--sizes: expected an integer ≥ 1, got '0'")
  t.is(t.throws(() => decode(["--max-iter", "1e400"]), { instanceOf: InvalidOptions })!.message, "--max-iter: expected an integer ≥ 1, got '1e400'")
})

test("Param.choice and Param.list refuse impossible declarations", (t) => {
  t.throws(() => Param.choice(["a", "b"], "c" as "a"), { instanceOf: InvalidArgument, message: "Param.choice: default = c must be one of a, b" })
  t.throws(() => Param.choice([] as string[], ""), { instanceOf: InvalidArgument })
  t.throws(() => Param.list(Param.boolean(false), []), { instanceOf: InvalidArgument })
})

test("help shows kebab-case flags, booleans as --[no-]x, choices and lists with their values", (t) => {
  const text = paramUsage(declared).join("\n")
  t.regex(text, /--max-iter <int>\s+iterations \(default 3\)/)
  t.regex(text, /--\[no-\]verbose\s+talk \(default true\)/)
  t.regex(text, /--mode <fast\|exact>\s+how \(default fast\)/)
  t.regex(text, /--sizes <int,…>\s+sizes \(default 8\)/)
})

test("a pipeline parameter named like a runtime or pipeline option is refused where it is declared, naming both", (t) => {
  const build = () => Pipeline.distribute(Range.of(4)).mapLocal(() => 1).allreduce()
  for (const [name, option, owner] of [
    ["timeout", "timeout", "runtime"],
    ["ranks", "ranks", "runtime"],
    ["help", "help", "runtime"],
    ["json", "json", "pipeline"],
    ["threads", "threads", "pipeline"],
    ["dryRun", "dry-run", "pipeline"],
    ["deadlockAfter", "deadlock-after", "runtime"],
  ] as const) {
    const error = t.throws(() => Pipeline.program({ name: "p", params: { [name]: Param.int(1) }, build }), { instanceOf: ParamNameConflict })
    t.like(error, { param: name, option, owner })
    t.is(error!.message, `parameter '${name}' collides with the ${owner} option --${option}; rename the parameter`)
  }
  t.notThrows(() => Pipeline.program({ name: "p", params: { n: Param.int(1), explainLevel: Param.int(1) }, build }))
})

test("a communicator program's colliding parameter exits 2 naming both, before any rank runs", async (t) => {
  const run = await runProgram("test/fixtures/collidingParam.ts", ["--timeout", "1"])
  t.is(run.code, 2)
  t.is(run.stderr, "rankflow: parameter 'timeout' collides with the runtime option --timeout; rename the parameter\n")
  t.is(run.stdout, "")
})

test("a Pipeline.program's colliding parameter, declared at the module's top level, exits 2 in one line before any rank runs", async (t) => {
  const run = await runProgram("test/fixtures/collidingPipelineParam.ts", ["--ranks", "2"])
  t.is(run.code, 2)
  t.is(run.stderr, "rankflow: parameter 'threads' collides with the pipeline option --threads; rename the parameter\n")
  t.is(run.stdout, "")
})

test("a program receives its typed parameters and the arguments after -- on every rank", async (t) => {
  const run = await runProgram("test/fixtures/cliParams.ts", ["-np", "2", "--max-iter", "5", "--no-verbose", "--mode", "exact", "--sizes", "1,2", "--", "in.csv", "--ranks"])
  t.is(run.code, 0, run.stderr)
  t.deepEqual(JSON.parse(run.stdout), { params: { maxIter: 5, verbose: false, mode: "exact", sizes: [1, 2] }, positionals: ["in.csv", "--ranks"], size: 2 })
  const help = await runProgram("test/fixtures/cliParams.ts", ["--help"])
  t.regex(help.stdout, /^usage: test\/fixtures\/cliParams\.ts \[options\] \[-- arguments\]$/m)
  t.regex(help.stdout, /--\[no-\]verbose/)
  const bad = await runProgram("test/fixtures/cliParams.ts", ["--mode", "slow"])
  t.is(bad.code, 2)
  t.is(bad.stderr, "rankflow: --mode: expected one of fast, exact, got 'slow'\n")
})
