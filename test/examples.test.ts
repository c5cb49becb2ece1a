// Every example of examples/ runs as a program, as a user would run it.
import test from "ava"
import { runProgram } from "./helpers.ts"

test("send_recv: an object and a Float64Array from rank 0 to rank 1", async (t) => {
  const run = await runProgram("examples/send_recv.ts", ["--ranks", "2"])
  t.is(run.code, 0, run.stderr)
  t.regex(run.stdout, /Rank 1 received: \{ message: 'Hello from rank 0', value: 42, array: \[ 1, 2, 3 \] \}/)
  t.regex(run.stdout, /Rank 1 received array \(buffer, 5 × Float64Array\): Float64Array\(5\) \[ 1, 2, 3, 4, 5 \]/)
})

test("send_recv refuses to run on one rank, with a clear message", async (t) => {
  const run = await runProgram("examples/send_recv.ts", ["--ranks", "1"])
  t.is(run.code, 1)
  t.regex(run.stderr, /rank 0 failed\nError: this example needs at least 2 ranks/)
})

for (const ranks of [2, 3, 4]) {
  test(`nonblocking: ring exchange of 1M doubles on ${ranks} ranks`, async (t) => {
    const run = await runProgram("examples/nonblocking.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    const N = 1_000_000
    for (let rank = 0; rank < ranks; rank++) {
      const left = (rank - 1 + ranks) % ranks
      const sum = ((left + 1) * (N * (N - 1))) / 2
      t.regex(run.stdout, new RegExp(`Rank ${rank}: .* received from rank ${left}: sum = ${sum.toExponential(2).replace("+", "\\+")}`))
    }
  })
}

test("the README tour is examples/tour.ts, and it runs on 1 and 3 ranks", async (t) => {
  const { readFileSync } = await import("node:fs")
  const { ROOT } = await import("./helpers.ts")
  const readme = readFileSync(`${ROOT}/README.md`, "utf8")
  const block = /```ts\n(\/\/ tour\.ts[\s\S]*?)```/.exec(readme)?.[1]
  t.is(block, readFileSync(`${ROOT}/examples/tour.ts`, "utf8"))
  for (const ranks of [1, 3]) {
    const run = await runProgram("examples/tour.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, /got \{ hello: 'from rank 0', at: \d{4}-/)
    for (let rank = 0; rank < ranks; rank++) {
      const left = (rank - 1 + ranks) % ranks
      t.regex(run.stdout, new RegExp(`rank ${rank}: ${left} came from ${left}; ${left} via serialized`))
    }
  }
})
