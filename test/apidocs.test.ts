// The generated API reference (scripts/api-docs.ts: tsc declarations →
// api-extractor → api-documenter) builds with no warning, and every export of
// src/index.ts carries a doc comment that reaches the reference.
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import * as rankflow from "rankflow"
import { buildApiDocs } from "../scripts/api-docs.ts"

const scratch = mkdtempSync(join(tmpdir(), "rankflow-apidocs-"))
const out = join(scratch, "api")
const report = buildApiDocs(out, join(scratch, "work"), true)
test.after.always(() => rmSync(scratch, { recursive: true, force: true }))

test("the API reference builds without a warning from api-extractor or the TSDoc parser", (t) => {
  t.deepEqual(report.warnings, [])
})

test("every public export, and every property and method of an exported class or interface, has a doc comment", (t) => {
  t.deepEqual(report.undocumented, [])
})

test("the reference covers every export of the package, values and types", (t) => {
  const values = Object.keys(rankflow)
  for (const name of values) t.true(report.exports.includes(name), `${name} missing from the reference`)
  t.true(report.exports.length > values.length, "types are listed too") // e.g. RunRanksOptions
  t.true(report.exports.includes("RunRanksOptions"))
  t.true(report.pages > report.exports.length, `${report.pages} pages`)
})

test("namespaces take their module's doc comment; examples reach the pages", (t) => {
  const page = (name: string) => readFileSync(join(out, `rankflow.${name}.md`), "utf8")
  t.regex(readFileSync(join(out, "rankflow.md"), "utf8"), /## rankflow package\n\n.*public API/) // src/index.ts's @packageDocumentation
  t.regex(page("grid"), /regular 1-D, 2-D and 3-D point sets/)
  t.notRegex(page("grid"), /Layer:/)
  t.regex(page("range"), /Index ranges/)
  t.regex(page("param"), /Pipeline parameters as data/)
  t.regex(page("runranks"), /## Example[\s\S]*export const whoAmI/)
  t.regex(page("any_source"), /from whichever rank's message arrives first/)
  t.regex(page("request"), /## Request class/)
  t.notRegex(page("runranks"), /\r/)
  // The Pipeline object's functions get their own pages, with their docs and examples; its type's doc joins the namespace's.
  t.regex(page("pipeline"), /The type `Pipeline<R>`/)
  t.regex(page("pipeline.run"), /Runs a pipeline on this rank/)
  t.regex(page("pipeline.prepare"), /## Example[\s\S]*Pipeline\.prepare\(p, comm\)/)
  // Members added by module augmentation (cart.ts adds comm.cart) are on the class's page.
  t.regex(page("comm.cart"), /A Cartesian communicator/)
})
