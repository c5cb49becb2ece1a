// Pipeline programs' --json, --explain and --dry-run: stdout is one JSON document and nothing else.
import test from "ava"
import { runProgram } from "../helpers.ts"

test("--json alone: stdout is one document with the result summarised and the run's summary", async (t) => {
  const run = await runProgram("pipelines/heat.ts", ["--ranks", "3", "--n", "200", "--t", "0.01", "--json"])
  t.is(run.code, 0, run.stderr)
  const doc = JSON.parse(run.stdout) as Record<string, any>
  t.like(doc, { program: "heat", ok: true, exitCode: 0, ranks: 3, result: { type: "Float64Array", length: 200, nan: 0 }, summary: { steps: 1000 } })
  t.true(doc.report["max |u − exact|"] < 1e-6)
  t.is(doc.plan, undefined, "no plan unless asked")
  t.is(run.stderr, "")
})

test("--explain --json prints the plan inside the document, and --trace the traces, with no text after it", async (t) => {
  const run = await runProgram("pipelines/pi.ts", ["--ranks", "2", "--samples", "2000000", "--explain", "--json", "--trace"])
  t.is(run.code, 0, run.stderr)
  const doc = JSON.parse(run.stdout) as Record<string, any> // throws on anything after the document
  t.like(doc, { program: "pi", ok: true, plan: { ranks: 2, source: { kind: "range" } }, summary: { expected: Math.PI } })
  t.is(typeof doc.result, "number")
  t.deepEqual(doc.trace.map((r: { rank: number }) => r.rank), [0, 1])
  t.notRegex(run.stderr, /sent|collectives/, "the trace table is in the document, not on stderr")
})

test("--dry-run alone prints the plan and stops; with --json the plan is one document", async (t) => {
  const text = await runProgram("pipelines/heat.ts", ["--ranks", "3", "--dry-run"])
  t.is(text.code, 0, text.stderr)
  t.regex(text.stdout, /^plan: 1-D grid 1000 points/m)
  t.notRegex(text.stdout, /^heat: /m, "nothing ran")
  const json = await runProgram("pipelines/heat.ts", ["--ranks", "3", "--dry-run", "--json"])
  t.is(json.code, 0, json.stderr)
  t.like(JSON.parse(json.stdout), { program: "heat", ranks: 3, plan: { ranks: 3, ghost: 8 } })
})

test("a failed run under --json still prints one document, saying it failed", async (t) => {
  const run = await runProgram("pipelines/heat.ts", ["--ranks", "2", "--json", "--timeout", "1", "--t", "1000"])
  t.is(run.code, 124, run.stderr)
  t.like(JSON.parse(run.stdout), { program: "heat", ok: false, exitCode: 124 })
  t.regex(run.stderr, /time limit/)
})

test("mandelbrot's --distribution is a choice: an unknown one exits 2 naming the allowed ones", async (t) => {
  const bad = await runProgram("pipelines/mandelbrot.ts", ["--ranks", "2", "--distribution", "foo"])
  t.is(bad.code, 2)
  t.is(bad.stderr, "rankflow: --distribution: expected one of block, cyclic, dynamic, got 'foo'\n")
  const help = await runProgram("pipelines/mandelbrot.ts", ["--help"])
  t.regex(help.stdout, /^usage: pipelines\/mandelbrot\.ts \[options\] \[-- arguments\]\nmandelbrot: escape counts/m)
  t.regex(help.stdout, /--distribution <block\|cyclic\|dynamic>/)
})

test("a pipeline reads what follows -- with positionals(), on the supervisor (build) and on rank 0 (report)", async (t) => {
  const run = await runProgram("test/fixtures/pipelineArgs.ts", ["--ranks", "2", "--", "a.csv", "b.csv", "--json"])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /^result: 3$/m, "build saw the three arguments (--json after -- is the program's, not an option)")
  t.regex(run.stdout, /^arguments: a\.csv b\.csv --json$/m)
})
