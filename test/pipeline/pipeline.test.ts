// Pipelines on real ranks against serial references written the plain way:
// bit-identical fields for every boundary kind and rank count (uneven sizes
// included), until/every loops, whole-block kernels, scans, reductions with
// user monoids, chunk-ordered range results, debug radius checks and a
// failing kernel stopping the run.
import test from "ava"
import { fingerprint, Grid, type RankFailed } from "rankflow"
import { onRanks } from "../helpers.ts"
import type { HeatArgs, Side } from "../fixtures/pipelines.ts"

/** The 1-D scheme of fixtures/pipelines.ts#heat1d, serially, with the boundary written out by hand. */
function serialHeat1d({ n, steps, r, side }: HeatArgs): Float64Array {
  const periodic = side === "periodic"
  const h = periodic ? 1 / n : 1 / (n - 1)
  let u = Float64Array.from({ length: n }, (_, i) => Math.sin(3 * (0 + i * h)) + (0 + i * h))
  if (side === "dirichlet") u[0] = u[n - 1] = 0.25
  let next = u.slice()
  for (let s = 0; s < steps; s++) {
    const at = (i: number): number => (i >= 0 && i < n ? u[i]! : periodic ? u[(i + n) % n]! : side === "neumann" ? u[i < 0 ? -i : 2 * (n - 1) - i]! : 0.25)
    const first = side === "dirichlet" ? 1 : 0
    const last = side === "dirichlet" ? n - 1 : n
    for (let i = first; i < last; i++) next[i] = u[i]! + r * (at(i - 1) - 2 * u[i]! + at(i + 1))
    ;[u, next] = [next, u]
  }
  return u
}

for (const side of ["dirichlet", "neumann", "periodic"] as const satisfies ReadonlyArray<Side>)
  for (const n of [1001, 1003]) {
    test(`1-D heat, ${side} boundaries, n = ${n}: bit-identical to the serial loop on 1, 2, 3, 4 and 8 ranks`, async (t) => {
      const args: HeatArgs = { n, steps: 300, r: 0.4, side }
      const want = fingerprint(serialHeat1d(args))
      for (const ranks of [1, 2, 3, 4, 8]) {
        const [field] = await onRanks<Float64Array | undefined>(ranks, "pipelines.ts", "heat1d", args)
        t.is(fingerprint(field!), want, `${ranks} ranks`)
      }
      for (const [threads, partitions] of [[1, 3], [2, 8]] as const) {
        const [field] = await onRanks<Float64Array | undefined>(threads, "pipelines.ts", "heat1d", { ...args, partitions })
        t.is(fingerprint(field!), want, `${partitions} partitions on ${threads} threads`)
      }
    })
  }

/** fixtures/pipelines.ts#heat2dMixed serially: x periodic, y Neumann at 0 (mirror) and Dirichlet 1 at 1 (held). */
function serialHeat2dMixed(nx: number, ny: number, steps: number): Float64Array {
  const hx = 1 / nx
  const hy = 1 / (ny - 1)
  let u = new Float64Array(nx * ny)
  for (let a = 0; a < nx; a++) for (let c = 0; c < ny; c++) u[a * ny + c] = c === ny - 1 ? 1 : Math.cos(0 + a * hx) * (0 + c * hy)
  let next = u.slice()
  const at = (a: number, c: number): number => u[((a + nx) % nx) * ny + (c < 0 ? -c : c)]!
  for (let s = 0; s < steps; s++) {
    for (let a = 0; a < nx; a++)
      for (let c = 0; c < ny - 1; c++) {
        const k = a * ny + c
        next[k] = u[k]! + 0.2 * (at(a, c - 1) + at(a, c + 1) + at(a - 1, c) + at(a + 1, c) - 4 * u[k]!)
      }
    ;[u, next] = [next, u]
  }
  return u
}

test("2-D heat, periodic in x and Neumann/Dirichlet in y, 37 × 23 points: bit-identical to the serial loop on 1, 2, 3, 4, 6 and 8 ranks", async (t) => {
  const args = { n: [37, 23] as const, steps: 40 }
  const want = fingerprint(serialHeat2dMixed(37, 23, 40))
  for (const ranks of [1, 2, 3, 4, 6, 8]) {
    const [field] = await onRanks<Float64Array | undefined>(ranks, "pipelines.ts", "heat2dMixed", args)
    t.is(fingerprint(field!), want, `${ranks} ranks`)
  }
  for (const [threads, partitions] of [[1, 4], [2, 6], [3, 8]] as const) {
    const [field] = await onRanks<Float64Array | undefined>(threads, "pipelines.ts", "heat2dMixed", { ...args, partitions })
    t.is(fingerprint(field!), want, `${partitions} partitions on ${threads} threads`)
  }
})

test("a 2 × 41 grid (two rows) runs on 3 and 5 ranks, split along the long axis, bit-identical to the serial loop", async (t) => {
  const want = fingerprint(serialHeat2dMixed(2, 41, 40))
  for (const ranks of [1, 3, 5]) {
    const [field] = await onRanks<Float64Array | undefined>(ranks, "pipelines.ts", "heat2dMixed", { n: [2, 41] as const, steps: 40 })
    t.is(fingerprint(field!), want, `${ranks} ranks`)
  }
})

test("3-D heat (7-point stencil) decays like sin(πx)sin(πy)sin(πz)·e^(−3π²αt) and is bit-identical on 1, 2, 4 and 8 ranks", async (t) => {
  const n = 17
  const steps = 30
  const [reference] = await onRanks<Float64Array | undefined>(1, "pipelines.ts", "heat3d", { n, steps })
  const h = 1 / (n - 1)
  const mid = 8 * n * n + 8 * n + 8 // x = y = z = 1/2
  // The discrete decay per step of the lowest mode: 1 − 0.1·6·(1 − cos πh)·2 … written as the 1-D factor cubed.
  const factor = 1 - 4 * 0.1 * 3 * Math.sin((Math.PI * h) / 2) ** 2
  t.true(Math.abs(reference![mid]! - factor ** steps) < 1e-12, `centre ${reference![mid]} vs ${factor ** steps}`)
  for (const ranks of [2, 4, 8]) {
    const [field] = await onRanks<Float64Array | undefined>(ranks, "pipelines.ts", "heat3d", { n, steps })
    t.is(fingerprint(field!), fingerprint(reference!), `${ranks} ranks`)
  }
})

test("until: Jacobi on u'' = 0 stops when the allreduced change is below tol, at a step the check interval divides, on every rank count alike", async (t) => {
  let first: { steps: number; field: string } | undefined
  for (const [ranks, partitions] of [[1, 1], [3, 3], [4, 4], [2, 5]] as const) {
    const [got] = await onRanks<{ field: Float64Array; steps: number; measure: number }>(ranks, "pipelines.ts", "jacobi", { n: 41, tol: 1e-9, partitions })
    t.true(got!.measure < 1e-9)
    t.is(got!.steps % 10, 0)
    t.true(got!.steps < 100_000)
    let worst = 0
    got!.field.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - i / 40))))
    t.true(worst < 1e-6, `max |u − x| = ${worst}`)
    const summary = { steps: got!.steps, field: fingerprint(got!.field) }
    if (first === undefined) first = summary
    else t.deepEqual(summary, first, `${ranks} ranks`)
  }
})

test("every k steps the gathered field is observed on rank 0 only, without changing the result", async (t) => {
  const results = await onRanks<{ seen: Array<[number, number]>; final: Float64Array | undefined }>(3, "pipelines.ts", "everyK", { steps: 20, k: 6 })
  t.deepEqual(results[0]!.seen.map(([step]) => step), [6, 12, 18])
  t.deepEqual(results[1]!.seen, [])
  const sums = results[0]!.seen.map(([, sum]) => sum)
  t.true(sums[0]! > sums[1]! && sums[1]! > sums[2]!, "heat leaks out through the Dirichlet edges")
  const [alone] = await onRanks<{ seen: Array<[number, number]>; final: Float64Array | undefined }>(1, "pipelines.ts", "everyK", { steps: 20, k: 6 })
  t.deepEqual(alone!.seen, results[0]!.seen)
  t.is(fingerprint(alone!.final!), fingerprint(results[0]!.final!))
})

test("whole-block and in-place kernels, a scan along the line, MAX and a struct monoid over the field (1, 2, 3, 5 ranks; 7 partitions on 2)", async (t) => {
  const n = 23
  // Serially: edges are Dirichlet 0 (held), the interior 1 doubled, then + global index everywhere, then prefix sums.
  const values = Array.from({ length: n }, (_, i) => (i === 0 || i === n - 1 ? 0 : 2) + i)
  const prefix = values.map((_, i) => values.slice(0, i + 1).reduce((a, b) => a + b, 0))
  for (const [ranks, partitions] of [[1, 1], [2, 2], [3, 3], [5, 5], [2, 7]] as const) {
    const results = await onRanks<{ scanned?: Float64Array; max: number; stats?: { sum: number; count: number } }>(ranks, "pipelines.ts", "blockKernels", { n, partitions })
    t.deepEqual(Array.from(results[0]!.scanned!), prefix, `${ranks} ranks`)
    for (const r of results) t.is(r.max, prefix[n - 1]!, "allreduce: on every rank")
    t.is(results[0]!.stats!.count, n)
    t.is(results[1]?.stats, undefined, "reduce: on rank 0 only")
  }
})

test("range results come in chunk order whatever the rank count and distribution", async (t) => {
  const args = { n: 1000, chunk: 37 }
  const chunks = Math.ceil(args.n / args.chunk)
  let reference: unknown
  const runs = [
    ...([[1, 1], [2, 2], [3, 3], [8, 8], [2, 6]] as const).map(([ranks, partitions]) => ({ ranks, partitions, distribution: "block" as const })),
    ...([[1, 1], [3, 3], [8, 8], [2, 6]] as const).map(([ranks, partitions]) => ({ ranks, partitions, distribution: "dynamic" as const })),
  ]
  for (const { ranks, partitions, distribution } of runs) {
    const [got] = await onRanks<{ gathered: number[]; total: number; joined: string; prefixes: number[] }>(ranks, "pipelines.ts", "chunks", { ...args, partitions, distribution })
    t.is(got!.gathered.length, chunks)
    got!.gathered.forEach((v, i) => t.true(v >= i && v < i + 1))
    t.is(got!.joined, Array.from({ length: chunks }, (_, i) => `${i}:${i * 37}-${Math.min(1000, i * 37 + 37)}`).join("|"))
    t.is(got!.prefixes.at(-1), 1000)
    if (reference === undefined) reference = got
    else t.deepEqual(got, reference, `${ranks} ranks, ${distribution}: the same values, bit for bit`)
  }
})

test("a dynamic distribution balances uneven chunks: the thread that drew the slow chunk runs few others", async (t) => {
  const perThread = (threads: number[]) => {
    const counts = new Map<number, number>()
    for (const id of threads) counts.set(id, (counts.get(id) ?? 0) + 1)
    return counts
  }
  const [dynamic] = await onRanks<number[]>(2, "pipelines.ts", "unevenChunks", "dynamic")
  const counts = perThread(dynamic!)
  t.is(counts.size, 2)
  // 800 ms: the other thread runs 39 chunks of 2 ms meanwhile (block gives each thread 20; the bound leaves room for a loaded machine).
  t.true(counts.get(dynamic![0]!)! < 10, `the slow chunk's thread ran ${counts.get(dynamic![0]!)} of 40`)
  const [block] = await onRanks<number[]>(2, "pipelines.ts", "unevenChunks", "block")
  t.deepEqual([...perThread(block!).values()], [20, 20])
})

test("a collection is mapped item by item and collected in item order, on any number of ranks and partitions", async (t) => {
  const names = ["ada", "alan", "grace", "edsger", "barbara", "donald", "john"]
  for (const [ranks, partitions] of [[1, 1], [3, 3], [2, 5], [4, 4]] as const) {
    const results = await onRanks<{ gathered?: Array<{ who: string; letters: number }>; reduced: { who: string; letters: number } }>(ranks, "pipelines.ts", "collection", { partitions })
    t.deepEqual(results[0]!.gathered, names.map((name, i) => ({ who: `${i}:${name}`, letters: name.length })))
    for (const r of results) t.deepEqual(r.reduced, { who: names.map((n, i) => `${i}:${n}`).join(","), letters: names.join("").length })
  }
})

test("stencils see the global coordinates of their point in 1-, 2- and 3-D, on any rank count", async (t) => {
  const expect = (shape: number[], f: (...x: number[]) => number): number[] => {
    const grid = shape.length === 1 ? Grid.line({ n: shape[0]!, boundary: Grid.neumann }) : shape.length === 2 ? Grid.plane({ n: [shape[0]!, shape[1]!], boundary: Grid.neumann }) : Grid.box({ n: [shape[0]!, shape[1]!, shape[2]!], boundary: Grid.neumann })
    const out: number[] = []
    const total = shape.reduce((a, b) => a * b, 1)
    for (let k = 0; k < total; k++) {
      let rest = k
      const x: number[] = []
      for (let d = shape.length - 1; d >= 0; d--) {
        x[d] = Grid.coordinate(grid, d, rest % shape[d]!)
        rest = Math.floor(rest / shape[d]!)
      }
      out.push(f(...x))
    }
    return out
  }
  for (const ranks of [1, 3]) {
    const [got] = await onRanks<{ line: Float64Array; plane: Float64Array; box: Float64Array }>(ranks, "pipelines.ts", "coordinates")
    t.deepEqual(Array.from(got!.line), expect([9], (x) => x))
    t.deepEqual(Array.from(got!.plane), expect([5, 7], (x, y) => x + 10 * y!))
    t.deepEqual(Array.from(got!.box), expect([3, 4, 5], (x, y, z) => x + 10 * y! + 100 * z!))
  }
})

test("debug mode: a stencil reading beyond its declared radius fails before running, naming the stage and the offset", async (t) => {
  const error = await t.throwsAsync(onRanks(2, "pipelines.ts", "tooWide"))
  t.regex(error!.message, /reaches-too-far: the stencil read the point at offset \[2\] from its centre, beyond its declared radius 1/)
})

test("a kernel throwing on one rank stops the whole run with that rank, the error and its stack", async (t) => {
  const error = await t.throwsAsync(onRanks(3, "pipelines.ts", "failing"))
  t.regex(error!.message, /rank 1/)
  t.regex(error!.message, /RangeError: kernel failed at step 3/)
  const failure = (error as RankFailed).failures.find((f) => f.rank === 1)!
  t.regex(failure.stack, /fixtures\/pipelines\.ts:\d+/)
})
