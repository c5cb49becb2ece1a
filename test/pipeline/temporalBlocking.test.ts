// Temporal blocking of declared SIMD stencils (src/plan/temporalBlocking.ts,
// the window kernel): k steps per exchange in one kernel call, tiles along
// dimension 0 — the same bits as the JavaScript sweep step by step and as a
// serial loop of the same operations, on 1, 2, 3 and 4 ranks (and 8
// partitions on 2 threads), uneven sizes, 1-D/2-D/3-D, Float64 and Float32,
// Dirichlet and periodic edges, radius 1 and 2. A small RANKFLOW_CACHE makes
// these modest grids "larger than L2" so that the planner tiles them.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { fingerprint, Grid, Pipeline, Stencil, explain } from "rankflow"
import { onRanks } from "../helpers.ts"
import type { TemporalCase } from "../fixtures/temporalBlocking.ts"
import { temporalBlocking } from "../../src/plan/temporalBlocking.ts"
import { parseCacheSetting, parseCacheSize, readCacheSizes } from "../../src/pipeline/cacheSizes.ts"

const cases: Array<TemporalCase & { /** Tiled on up to this many partitions (more: blocks small enough for the small-block rule). */
  tiledUpTo: number }> = [
  { shape: [1001], side: "dirichlet", stencil: "heat", type: "float64", steps: 37, cache: "l1=1K,l2=8K", tiledUpTo: 1 },
  { shape: [1003], side: "periodic", stencil: "wide", type: "float32", steps: 41, cache: "l1=1K,l2=4K", tiledUpTo: 1 },
  { shape: [270001], side: "dirichlet", stencil: "heat", type: "float64", steps: 37, cache: "l2=64K", tiledUpTo: 4 },
  { shape: [403, 1003], side: "periodic", stencil: "wide", type: "float64", steps: 13, cache: "l2=1M", tiledUpTo: 4 },
  { shape: [1001, 23], side: "dirichlet", stencil: "heat", type: "float64", steps: 19, cache: "l2=32K", tiledUpTo: 8 },
  { shape: [1001, 23], side: "periodic", stencil: "heat", type: "float32", steps: 19, cache: "l2=16K", tiledUpTo: 8 },
  { shape: [601, 7, 9], side: "dirichlet", stencil: "heat", type: "float64", steps: 11, cache: "l2=64K", tiledUpTo: 8 },
]

interface Got {
  simd: string
  js: string
  serial: string
  every: number
  tile: number | undefined
  ghost: number
}

for (const [threads, partitions] of [[1, 1], [2, 2], [3, 3], [4, 4], [2, 8]] as const) {
  const what = threads === partitions ? `${threads} rank${threads > 1 ? "s" : ""}` : `${partitions} partitions on ${threads} threads`
  test(`blocked in time: the SIMD windows give the bits of the JavaScript sweep and of a serial loop on ${what}`, async (t) => {
    const results = await onRanks<Array<Got | undefined>>(threads, "temporalBlocking.ts", "runTemporal", { cases, ...(threads === partitions ? {} : { partitions }) })
    const got = results[0]! as Got[]
    cases.forEach((c, k) => {
      const g = got[k]!
      const name = `${c.shape.join("×")} ${c.side} ${c.stencil} ${c.type}`
      t.is(g.simd, g.serial, `${name}: SIMD windows = serial loop`)
      t.is(g.js, g.serial, `${name}: JavaScript sweep = serial loop`)
      if (partitions <= c.tiledUpTo) {
        t.true(g.every > 1, `${name}: several steps per exchange (${g.every})`)
        t.is(g.ghost % g.every, 0, `${name}: the ghost frame is k·radius wide`)
        t.true(g.tile !== undefined && g.tile > 0, `${name}: tiled (tile ${g.tile})`)
      } else if (c.shape.length === 1) t.true(g.every > 1 && g.tile === 0, `${name}: small blocks, windows of k steps in one call (every ${g.every}, tile ${g.tile})`)
    })
    t.true(results.slice(1).every((r) => r.every((v) => v === undefined)))
  })
}

test("the planner's choice: small 1-D blocks exchange every 64 steps (at most points / 8r) in one call; blocks larger than L2 are tiled to fit half of it; blocks in between are left alone", (t) => {
  const cache = { l1: 48 << 10, l2: 2 << 20 }
  const small = temporalBlocking({ dims: 1, count: [502], ranks: 2, radius: 1, elementBytes: 8, loopSteps: 50_000, cache })
  t.deepEqual([small?.steps, small?.ghost, small?.tile], [62, 62, 0], "502 points: at most 502 / 8 steps")
  t.deepEqual(temporalBlocking({ dims: 1, count: [1004], ranks: 1, radius: 1, elementBytes: 8, loopSteps: 50_000, cache })?.steps, 64, "within L1 on one rank: no exchange to save, but one call per 64 steps")
  t.deepEqual(temporalBlocking({ dims: 1, count: [40], ranks: 4, radius: 2, elementBytes: 8, loopSteps: 50_000, cache })?.steps, 8, "at least 8 steps")
  t.is(temporalBlocking({ dims: 1, count: [100_000], ranks: 1, radius: 1, elementBytes: 8, loopSteps: 200, cache }), undefined, "1.6 MB fits in a 2 MiB L2")
  const large = temporalBlocking({ dims: 1, count: [10_000_000], ranks: 1, radius: 1, elementBytes: 8, loopSteps: 200, cache })!
  t.is(large.steps, 16)
  t.is(large.tile, (1 << 20) / 16 - 17, "two buffers of tile + (k + 1)·r points in half the L2")
  const plane = temporalBlocking({ dims: 2, count: [4096, 4096], ranks: 1, radius: 1, elementBytes: 8, loopSteps: 100, cache })!
  t.is(plane.steps, 8)
  t.true((plane.tile + 9) * (4096 + 16) * 16 <= 1 << 20 && (plane.tile + 10) * (4096 + 16) * 16 > 1 << 20, `the largest tile that fits (${plane.tile})`)
  t.is(temporalBlocking({ dims: 2, count: [4096, 4096], ranks: 1, radius: 1, elementBytes: 8, loopSteps: 5, cache })!.steps, 5, "never more steps than the loop has")
  const huge = temporalBlocking({ dims: 3, count: [512, 512, 512], ranks: 1, radius: 1, elementBytes: 8, loopSteps: 100, cache })!
  t.is(huge.tile, 0, "a plane pair larger than half the L2: windows without tiles")
  t.regex(huge.why, /does not fit in half the L2 \(2 MiB\)/)
  t.is(temporalBlocking({ dims: 1, count: [502], ranks: 2, radius: 1, elementBytes: 8, loopSteps: 1, cache }), undefined)
})

test("explain shows k and the tile; point functions, kernel: \"js\" and Neumann edges keep the step-by-step loop", (t) => {
  const grid = Grid.plane({ n: [2048, 2048], boundary: Grid.dirichlet(0) })
  const heat = Pipeline.distribute(grid, () => 1).iterate(100, (s) => s.haloExchange().stencil(Stencil.heat(0.1, 2))).gather()
  const text = explain(Pipeline.plan(heat, 2))
  t.regex(text, /heat: temporal blocking: tiles of \d+ rows swept through 8 steps each \(working set .* in half the L2 of .*\); the same bits as step by step/)
  t.regex(text, /ghost width 8/)
  const js = Pipeline.distribute(grid, () => 1).iterate(100, (s) => s.haloExchange().stencil(Stencil.heat(0.1, 2), { kernel: "js" })).gather()
  t.regex(explain(Pipeline.plan(js, 2)), /ghost width 1\b/)
  t.notRegex(explain(Pipeline.plan(js, 2)), /temporal blocking/)
  const fn = Pipeline.distribute(grid, () => 1).iterate(100, (s) => s.haloExchange().stencil((u, i, row) => u[i]! + 0.1 * (u[i - row]! + u[i + row]! + u[i - 1]! + u[i + 1]! - 4 * u[i]!))).gather()
  t.notRegex(explain(Pipeline.plan(fn, 2)), /temporal blocking/)
  const neumann = Pipeline.distribute(Grid.plane({ n: [2048, 2048], boundary: Grid.neumann }), () => 1).iterate(100, (s) => s.haloExchange().stencil(Stencil.heat(0.1, 2))).gather()
  t.notRegex(explain(Pipeline.plan(neumann, 2)), /temporal blocking/)
  const small = Pipeline.distribute(Grid.line({ n: 1004, boundary: Grid.dirichlet(0) }), () => 1).iterate(50_000, (s) => s.haloExchange().stencil(Stencil.heat(0.1))).gather()
  t.regex(explain(Pipeline.plan(small, 2)), /small blocks: 62 steps per exchange in one kernel call/)
})

test("cache sizes: sysfs strings, RANKFLOW_CACHE, and a clear error for a bad setting", (t) => {
  t.is(parseCacheSize("48K"), 48 * 1024)
  t.is(parseCacheSize("2048K"), 2 << 20)
  t.is(parseCacheSize("1M"), 1 << 20)
  t.is(parseCacheSize("lots"), undefined)
  t.deepEqual(parseCacheSetting("l2=2M", { l1: 1, l2: 2 }), { l1: 1, l2: 2 << 20 })
  t.deepEqual(parseCacheSetting("l1=48K, l2=1M", { l1: 1, l2: 2 }), { l1: 48 << 10, l2: 1 << 20 })
  t.throws(() => parseCacheSetting("l3=1M", { l1: 1, l2: 2 }), { message: /RANKFLOW_CACHE.*l2=2M/ })
  t.throws(() => parseCacheSetting("l2=big", { l1: 1, l2: 2 }), { message: /RANKFLOW_CACHE/ })
  const missing = readCacheSizes("/nonexistent/cache")
  t.deepEqual(missing, { l1: 32 * 1024, l2: 1024 * 1024 }, "no sysfs: the defaults")
  const here = readCacheSizes()
  t.true(here.l1 >= 4096 && here.l2 >= here.l1, JSON.stringify(here))
})

test("a blocked loop ends its windows where the field is observed: the same observations as the JavaScript sweep step by step", async (t) => {
  for (const ranks of [1, 3]) {
    const [simd] = await onRanks<{ seen: Array<[number, string]>; last: string; every: number; tile: number }>(ranks, "temporalBlocking.ts", "observedTemporal", {})
    const [js] = await onRanks<{ seen: Array<[number, string]>; last: string; every: number }>(ranks, "temporalBlocking.ts", "observedTemporal", { kernel: "js" })
    t.true(simd!.every > 5 && simd!.tile > 0, `blocked and tiled on ${ranks} ranks (every ${simd!.every}, tile ${simd!.tile})`)
    t.deepEqual(simd!.seen.map(([s]) => s), [5, 10, 15, 20, 25, 30, 35, 40])
    t.deepEqual(simd!.seen, js!.seen, `${ranks} ranks`)
    t.is(simd!.last, js!.last)
  }
})

test("a loop blocked in time checkpoints where its windows end and restarts mid-cycle on another rank count with the same field", async (t) => {
  const whole = (await onRanks<Float64Array>(2, "temporalBlocking.ts", "checkpointedTemporal", { steps: 60, dir: "unused", restart: false }))[0]!
  for (const at of [13, 37]) {
    const dir = mkdtempSync(join(tmpdir(), "rankflow-tblock-"))
    try {
      await onRanks(3, "temporalBlocking.ts", "checkpointedTemporal", { steps: at, every: at, dir, restart: false })
      const resumed = (await onRanks<Float64Array>(2, "temporalBlocking.ts", "checkpointedTemporal", { steps: 60, dir, restart: true }))[0]!
      t.is(fingerprint(resumed), fingerprint(whole), `checkpoint at step ${at}`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
})
