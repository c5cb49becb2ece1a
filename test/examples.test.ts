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
  t.regex(run.stderr, /^rankflow: rank 0 failed: Error: this example needs at least 2 ranks/)
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

for (const ranks of [1, 3, 4])
  test(`collective: the seed's bcast/scatter/gather/reduce/allreduce on ${ranks} ranks`, async (t) => {
    const run = await runProgram("examples/collective.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    const total = (ranks * (ranks + 1)) / 2
    t.regex(run.stdout, new RegExp(`Sum of all ranks \\(1\\+2\\+\\.\\.\\.\\+${ranks}\\): ${total} \\(expected ${total}\\)`))
    t.regex(run.stdout, new RegExp(`Rank 0 gathered all results: \\[${Array.from({ length: ranks }, (_, r) => (r + 1) ** 2).join(", ")}\\]`))
    for (let r = 0; r < ranks; r++) {
      t.regex(run.stdout, new RegExp(`Rank ${r} sees global sum: \\[${total}, ${total}, ${total}\\]`))
      t.regex(run.stdout, new RegExp(`Rank ${r} received: \\[${[0, 1, 2, 3].map((i) => r * 4 + i).join(", ")}\\]`))
      t.regex(run.stdout, new RegExp(`Rank ${r} received broadcast: \\{"param":"simulation_config","timesteps":1000,"dt":0.01\\}`))
    }
  })

for (const ranks of [1, 3, 4])
  test(`trapezoid: π to 1e-9 on ${ranks} ranks`, async (t) => {
    const run = await runProgram("examples/trapezoid.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    const estimate = Number(/Estimated π:\s+([\d.]+)/.exec(run.stdout)?.[1])
    t.true(Math.abs(estimate - Math.PI) < 1e-9, `estimate ${estimate}`)
  })

for (const ranks of [1, 2, 3])
  test(`pi_monte_carlo: π within 5 standard errors on ${ranks} ranks`, async (t) => {
    const run = await runProgram("examples/pi_monte_carlo.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    const estimate = Number(/Estimated π: ([\d.]+)/.exec(run.stdout)?.[1])
    const p = Math.PI / 4
    const standardError = 4 * Math.sqrt((p * (1 - p)) / 1e8)
    t.true(Math.abs(estimate - Math.PI) < 5 * standardError, `estimate ${estimate}`)
  })

for (const ranks of [1, 3, 4])
  test(`matvec: N = 1000 rows with remainders on ${ranks} ranks matches the serial product`, async (t) => {
    const run = await runProgram("examples/matvec.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, /✓ results match/)
    const error = Number(/Relative error: ([\d.e+-]+)/.exec(run.stdout)?.[1])
    t.true(error < 1e-10)
  })

test("halo: the hand-written 1-D heat equation matches the analytic solution, bit-identically on 1, 2, 3, 4 ranks", async (t) => {
  const checksums = new Set<string>()
  for (const ranks of [1, 2, 3, 4]) {
    const run = await runProgram("examples/halo.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    const error = Number(/max \|u − exact\| = ([\d.e+-]+)/.exec(run.stdout)?.[1])
    t.true(error < 1e-6, `error ${error} on ${ranks} ranks`)
    checksums.add(/checksum = ([\d.e+-]+)/.exec(run.stdout)![1]!)
  }
  t.is(checksums.size, 1)
})

test("the guide's explain block is what --explain prints for heat on 3 ranks", async (t) => {
  const { readFileSync } = await import("node:fs")
  const { ROOT } = await import("./helpers.ts")
  const guide = readFileSync(`${ROOT}/docs/guide.md`, "utf8")
  const block = /```text\n(plan: [\s\S]*?)```/.exec(guide)?.[1]
  const run = await runProgram("pipelines/heat.ts", ["--ranks", "3", "--explain", "--dry-run"])
  t.is(run.code, 0, run.stderr)
  t.is(block, run.stdout)
})

test("laplace: Jacobi until converged gives u(½, ½) = 1/4 on 1 and 4 ranks, identically", async (t) => {
  const fingerprints = new Set<string>()
  for (const ranks of [1, 4]) {
    const run = await runProgram("examples/laplace.ts", ["--ranks", String(ranks)])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, /^step 5000: u\(½, ½\) = 0\.249/m)
    t.true(Number.parseFloat(/\|u\(½, ½\) − 1\/4\|: (\S+)/.exec(run.stdout)![1]!) < 1e-6, run.stdout)
    fingerprints.add(/fingerprint (\w+)/.exec(run.stdout)![1]!)
  }
  t.is(fingerprints.size, 1)
})

test("every code block of docs/guide.md is an example file, verbatim", async (t) => {
  const { readFileSync } = await import("node:fs")
  const { ROOT } = await import("./helpers.ts")
  const guide = readFileSync(`${ROOT}/docs/guide.md`, "utf8")
  const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
  t.true(blocks.length >= 2)
  for (const block of blocks) {
    const file = /^\/\/.*\btsx ((?:examples|pipelines)\/\w+\.ts)/m.exec(block)?.[1]
    t.truthy(file, `block without an example file:\n${block.slice(0, 80)}`)
    t.is(block, readFileSync(`${ROOT}/${file}`, "utf8"), file)
  }
})

for (const ranks of [1, 3, 4])
  test(`sort: the merge tree of sorted runs equals the serial sort on ${ranks} ranks (uneven blocks)`, async (t) => {
    const run = await runProgram("examples/sort.ts", ["--ranks", String(ranks), "--n", "100003"])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, new RegExp(`^sorted 100003 values on ${ranks} ranks in `, "m"))
    t.regex(run.stdout, /^identical to the serial sort: true$/m)
  })

test("random walk: variance ≈ steps and mean ≈ 0 (within 5σ), the same on 1 and 3 ranks", async (t) => {
  const outputs: string[] = []
  for (const ranks of ["1", "3"]) {
    const run = await runProgram("examples/random_walk.ts", ["--ranks", ranks, "--walkers", "20000", "--steps", "400"])
    t.is(run.code, 0, run.stderr)
    const value = (key: string) => Number.parseFloat(new RegExp(`^${key}: (\\S+)$`, "m").exec(run.stdout)![1]!)
    // mean of 20 000 walkers: σ = √(400/20 000) ≈ 0.14; variance: σ ≈ 400·√(2/20 000) = 4.
    t.true(Math.abs(value("mean displacement")) < 5 * 0.142, run.stdout)
    t.true(Math.abs(value("variance") - 400) < 5 * 4, run.stdout)
    outputs.push(run.stdout.split("\n").slice(1).join("\n"))
  }
  t.is(outputs[0], outputs[1])
})

test("a plain SPMD program declares its own parameters with initWithParams: decoded before ranks start, listed by --help", async (t) => {
  const bad = await runProgram("examples/sort.ts", ["--ranks", "2", "--n", "0"])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /--n: expected an integer ≥ 1, got '0'/)
  const help = await runProgram("examples/sort.ts", ["--help"])
  t.regex(help.stdout, /--n <int>\s+values to sort \(default 1000003\)/)
})

for (const ranks of [1, 2, 4])
  test(`manager_worker: π(200000) = 17984 by a farm of prime-counting ranges, every worker busy (${ranks} ranks)`, async (t) => {
    const run = await runProgram("examples/manager_worker.ts", ["--ranks", String(ranks), "--n", "200000", "--tasks", "60"])
    t.is(run.code, 0, run.stderr)
    t.regex(run.stdout, /^π\(200000\) = 17984 in /m)
    const counts = /^ranges per worker: (.*)$/m.exec(run.stdout)![1]!.split(", ").map(Number)
    t.is(counts.length, Math.max(1, ranks - 1))
    t.is(counts.reduce((a, b) => a + b), 60)
    for (const c of counts) t.true(c > 0, run.stdout)
  })

test("stream_pipeline: signals through synthesize → smooth → rms come back complete, the same on 1, 3 and 5 ranks (order: test/patterns/stream.test.ts)", async (t) => {
  const layouts = { 1: "every stage on rank 0", 3: "synthesize + smooth on rank 1; rms on rank 2", 5: "synthesize on rank 1; smooth on rank 2, 3; rms on rank 4" }
  const means = new Set<string>()
  for (const ranks of [1, 3, 5] as const) {
    const run = await runProgram("examples/stream_pipeline.ts", ["--ranks", String(ranks), "--signals", "60", "--length", "4096"])
    t.is(run.code, 0, run.stderr)
    t.is(run.stdout.split("\n")[0], layouts[ranks])
    means.add(/^60 signals, mean rms (0\.7\d{3}) \(a pure sine: 0\.7071\)/m.exec(run.stdout)?.[1] ?? run.stdout)
  }
  t.is(means.size, 1, [...means].join(" ≠ "))
})

for (const ranks of [1, 5, 7])
  test(`farm_of_pipelines: heat runs for six diffusivities, each on a group of ranks, all within 1e-5 of the analytic solution (${ranks} ranks)`, async (t) => {
    const run = await runProgram("examples/farm_of_pipelines.ts", ["--ranks", String(ranks), "--group", ranks === 7 ? "3" : "2"])
    t.is(run.code, 0, run.stderr)
    const errors = [...run.stdout.matchAll(/^alpha (\S+): max error (\S+)$/gm)]
    t.deepEqual(errors.map((m) => Number(m[1])), [0.25, 0.5, 1, 2, 4, 8])
    for (const m of errors) t.true(Number(m[2]) < 1e-5, m[0])
  })

test("scaling_benchmark: one timing line per problem size on 1 and 3 ranks; a bad size list is refused", async (t) => {
  for (const ranks of ["1", "3"]) {
    const run = await runProgram("examples/scaling_benchmark.ts", ["--ranks", ranks, "--sizes", "60,120"])
    t.is(run.code, 0, run.stderr)
    t.is(run.stdout.split("\n")[0], `MPI-style scaling benchmark on ${ranks} ranks`)
    t.deepEqual([...run.stdout.matchAll(/^problem size (\d+)×\1: \d+\.\d{4} s \(sum (\S+)\)$/gm)].map((m) => m[1]), ["60", "120"])
  }
  const bad = await runProgram("examples/scaling_benchmark.ts", ["--ranks", "2", "--sizes", "60,x"])
  t.is(bad.code, 1)
  t.regex(bad.stderr, /--sizes: expected integers ≥ the 2 ranks, got '60,x'/)
})

test("smooth_npy: a .npy read in parallel, smoothed, saved as .npy equals the serial smoothing, on 1, 3 and 4 ranks (float64 and uint8 files)", async (t) => {
  const { mkdtempSync, rmSync } = await import("node:fs")
  const { tmpdir } = await import("node:os")
  const { join } = await import("node:path")
  const { readNpy, writeNpy } = await import("rankflow")
  const dir = mkdtempSync(join(tmpdir(), "rankflow-npy-"))
  try {
    const [rows, cols] = [23, 31]
    for (const type of ["float64", "uint8"] as const) {
      const input = type === "float64" ? Float64Array.from({ length: rows * cols }, (_, k) => Math.sin(k) * 10) : Uint8Array.from({ length: rows * cols }, (_, k) => (k * 37) % 251)
      writeNpy(join(dir, `in-${type}.npy`), input, [rows, cols])
      // Serially: Neumann mirrors at every edge, then the 5-point average, stored in the file's type each pass.
      let a: Float64Array | Uint8Array = input
      for (let pass = 0; pass < 3; pass++) {
        const at = (r: number, c: number) => a[(r < 0 ? -r : r >= rows ? 2 * (rows - 1) - r : r) * cols + (c < 0 ? -c : c >= cols ? 2 * (cols - 1) - c : c)]!
        const next: Float64Array | Uint8Array = type === "float64" ? new Float64Array(a.length) : new Uint8Array(a.length)
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) next[r * cols + c] = (at(r - 1, c) + at(r, c - 1) + 4 * at(r, c) + at(r, c + 1) + at(r + 1, c)) / 8
        a = next
      }
      for (const ranks of ["1", "3", "4"]) {
        const out = join(dir, `out-${type}-${ranks}.npy`)
        const run = await runProgram("examples/smooth_npy.ts", ["--ranks", ranks, "--input", join(dir, `in-${type}.npy`), "--output", out, "--passes", "3"])
        t.is(run.code, 0, run.stderr)
        const got = readNpy(out)
        t.is(got.type, type)
        t.deepEqual(got.shape, [rows, cols])
        t.deepEqual(got.data, a, `${type} on ${ranks} ranks`)
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
