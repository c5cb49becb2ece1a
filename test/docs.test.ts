// TSDoc examples cannot drift: every ```ts block under an @example in src/ is
// written out as a program and run on 2 ranks (examples that never call
// init() simply run on the main thread).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import test from "ava"
import { ROOT, runProgram } from "./helpers.ts"

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  )
}

const OUT = join(ROOT, "test/.doc-examples")
const examples = sources(join(ROOT, "src")).flatMap((file) => {
  const text = readFileSync(file, "utf8")
  return [...text.matchAll(/@example\s*\n\s*\*\s*```ts\n([\s\S]*?)\n\s*\*\s*```/g)].map((m, i) => ({
    name: `${relative(join(ROOT, "src"), file).replace(/[/.]/g, "_")}_${i}`,
    code: m[1]!.replace(/^\s*\* ?/gm, ""),
  }))
})

test.before(() => {
  rmSync(OUT, { recursive: true, force: true })
  mkdirSync(OUT, { recursive: true })
})

test("the public API has runnable TSDoc examples", (t) => {
  t.true(examples.length >= 10, `${examples.length} examples`)
})

for (const { name, code } of examples) {
  test(`TSDoc example ${name} runs`, async (t) => {
    const file = join(OUT, `${name}.ts`)
    writeFileSync(file, code + "\n")
    const run = await runProgram(relative(ROOT, file), ["--ranks", "2"])
    t.is(run.code, 0, `${code}\n---\n${run.stderr}`)
    t.not(run.stdout, "")
  })
}
