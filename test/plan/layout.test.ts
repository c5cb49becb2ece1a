// The planner's layouts for any rank count, without threads: blocks cover the
// grid exactly once, differ by at most one point per dimension, neighbours are
// mutual, edges are where the grid ends; range chunks are dealt exactly once.
import test from "ava"
import fc from "fast-check"
import { computeDims, decompose, Grid, GridTooSmall, Pipeline, Range } from "rankflow"
import { chunksOf, layoutGrid, minimumBlock } from "../../src/plan/layout.ts"
import { gridOf } from "../helpers.ts"

const gridArb = fc
  .record({
    dims: fc.constantFrom(1, 2, 3),
    n: fc.array(fc.integer({ min: 2, max: 70 }), { minLength: 3, maxLength: 3 }),
    periodic: fc.array(fc.constantFrom("periodic", "dirichlet", "neumann"), { minLength: 3, maxLength: 3 }),
    ranks: fc.integer({ min: 1, max: 64 }),
    ghost: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ dims, n, periodic, ranks, ghost }) => {
    const boundary = periodic.slice(0, dims).map((p) => (p === "periodic" ? Grid.periodic : p === "neumann" ? Grid.neumann : Grid.dirichlet(0)))
    const grid = gridOf(dims, n, boundary)
    return { grid, ranks, ghost }
  })

test("grid blocks cover every point exactly once, balanced, with mutual neighbours (property, 1..64 ranks)", (t) => {
  let laidOut = 0
  fc.assert(
    fc.property(gridArb, ({ grid, ranks, ghost }) => {
      const shape = grid.shape as ReadonlyArray<number>
      let layout
      try {
        layout = layoutGrid(grid, ranks, ghost)
      } catch (error) {
        // Refused exactly when every rank layout leaves some dimension fewer points per rank than its minimum block.
        if (!(error instanceof GridTooSmall)) throw error
        return layoutsOf(ranks, grid.dims).every((dims) => shape.some((n, d) => Math.floor(n / dims[d]!) < minimumBlock(grid, d, ghost)))
      }
      laidOut++
      const dims = layout.dims
      const cover = new Uint8Array(shape.reduce((a, b) => a * b, 1))
      for (const b of layout.blocks) {
        const idx = [0, 0, 0]
        const total = b.count.reduce((a, c) => a * c, 1)
        for (let k = 0; k < total; k++) {
          let rest = k
          for (let d = grid.dims - 1; d >= 0; d--) {
            idx[d] = b.start[d]! + (rest % b.count[d]!)
            rest = Math.floor(rest / b.count[d]!)
          }
          const flat = idx.slice(0, grid.dims).reduce((a, i, d) => a * shape[d]! + i, 0)
          cover[flat]!++
        }
        b.count.forEach((c, d) => {
          if (c < Math.floor(shape[d]! / dims[d]!) || c > Math.ceil(shape[d]! / dims[d]!)) throw new Error(`unbalanced block ${c} in dim ${d}`)
          if (c < minimumBlock(grid, d, ghost)) throw new Error("block thinner than the ghost width")
          const [lo, hi] = b.neighbours[d]!
          if (lo >= 0 && layout.blocks[lo]!.neighbours[d]![1] !== b.rank) throw new Error("low neighbour not mutual")
          if (hi >= 0 && layout.blocks[hi]!.neighbours[d]![0] !== b.rank) throw new Error("high neighbour not mutual")
          const periodic = grid.boundary[d]![0].kind === "periodic"
          if (!periodic && (lo < 0) !== (b.start[d] === 0)) throw new Error("low edge misplaced")
          if (!periodic && (hi < 0) !== (b.start[d]! + c === shape[d])) throw new Error("high edge misplaced")
          if (periodic && (lo < 0 || hi < 0)) throw new Error("a periodic dimension has no edge")
        })
      }
      return cover.every((c) => c === 1)
    }),
    { numRuns: 400, seed: 20261125 },
  )
  t.true(laidOut > 100, `only ${laidOut} grids were laid out`)
})

/** Every ordered factorization of `ranks` into `k` factors, by brute force (the reference for decompose). */
function layoutsOf(ranks: number, k: number): number[][] {
  if (k === 1) return [[ranks]]
  const out: number[][] = []
  for (let p = 1; p <= ranks; p++) if (ranks % p === 0) for (const rest of layoutsOf(ranks / p, k - 1)) out.push([p, ...rest])
  return out
}

const surface = (dims: ReadonlyArray<number>, shape: ReadonlyArray<number>): number =>
  dims.reduce((a, p, d) => a + (p - 1) * shape.reduce((f, n, e) => (e === d ? f : f * n), 1), 0)

test("a 2 × N grid on 3 ranks is split along N, an N × 2 one along N, where computeDims would cut the 2-point axis", (t) => {
  t.deepEqual(computeDims(3, 2), [3, 1], "the shape-blind layout")
  t.deepEqual(layoutGrid(Grid.plane({ n: [2, 1000] }), 3, 1).dims, [1, 3])
  t.deepEqual(layoutGrid(Grid.plane({ n: [1000, 2] }), 3, 1).dims, [3, 1])
  const blocks = layoutGrid(Grid.plane({ n: [2, 1000] }), 3, 1).blocks
  t.deepEqual(blocks.map((b) => [b.count[0], b.count[1]]), [[2, 334], [2, 333], [2, 333]])
  // 2 × N on 4 ranks: [2, 2] is valid with ghost 1 (1-point rows) but cuts 1000 + 2 points; [1, 4] cuts 3 faces of 2 points.
  t.deepEqual(layoutGrid(Grid.plane({ n: [2, 1000] }), 4, 1).dims, [1, 4])
})

test("thin 3-D grids: the thin axes keep one rank, the long one takes the rest", (t) => {
  t.deepEqual(layoutGrid(Grid.box({ n: [2, 3, 600] }), 6, 1).dims, [1, 1, 6])
  t.deepEqual(layoutGrid(Grid.box({ n: [2, 600, 600] }), 8, 1).dims, [1, 4, 2])
  t.deepEqual(layoutGrid(Grid.box({ n: [500, 4, 3] }), 12, 1).dims, [12, 1, 1])
  // A Neumann edge needs ghost + 1 points per block: 4 points along y fit 2 blocks with ghost 1, not 4.
  const slab = Grid.box({ n: [40, 4, 40], boundary: [Grid.periodic, Grid.neumann, Grid.periodic] })
  t.deepEqual(layoutGrid(slab, 16, 1).dims, [4, 1, 4])
})

test("square and cubic grids keep computeDims's balanced layout, 1 to 64 ranks", (t) => {
  for (let ranks = 1; ranks <= 64; ranks++) {
    t.deepEqual(layoutGrid(Grid.plane({ n: 512 }), ranks, 1).dims, computeDims(ranks, 2), `${ranks} ranks, 2-D`)
    t.deepEqual(layoutGrid(Grid.box({ n: 128 }), ranks, 1).dims, computeDims(ranks, 3), `${ranks} ranks, 3-D`)
  }
})

test("rankDims overrides the extent: a fixed layout that cuts the thin axis is refused with GridTooSmall naming it", (t) => {
  const grid = Grid.plane({ n: [2, 1000] })
  t.deepEqual(layoutGrid(grid, 4, 1, [2, 2]).dims, [2, 2])
  const error = t.throws(() => layoutGrid(grid, 3, 1, [3, 1]), { instanceOf: GridTooSmall })
  t.like(error, { dimension: 0, points: 2, ranksAlong: 3 })
  const plan = Pipeline.plan(Pipeline.distribute(grid, () => 0, { rankDims: [2, 2] }).gather(), 4)
  t.is(plan.source.kind === "grid" && plan.source.layoutFrom, "rankDims")
})

test("when no layout fits, GridTooSmall names the dimension and the sizes of the closest one", (t) => {
  const error = t.throws(() => layoutGrid(Grid.plane({ n: [3, 4] }), 16, 1), { instanceOf: GridTooSmall })
  // [4, 4] leaves 0-point blocks along dim 0, every other layout is worse.
  t.like(error, { dimension: 0, points: 3, ranksAlong: 4, minimum: 1 })
  t.regex(error.message, /3 points along dimension 0 on 4 ranks/)
})

test("decompose: the valid layout with the least halo surface, whenever one exists (property, random shapes × 1..64 ranks)", (t) => {
  let valid = 0
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 3 }),
      (shape, ranks, minimum) => {
        const dims = decompose(ranks, shape, minimum)
        if (dims.length !== shape.length || dims.reduce((a, b) => a * b, 1) !== ranks) return false
        const fits = (d: ReadonlyArray<number>) => d.every((p, i) => Math.floor(shape[i]! / p) >= minimum)
        const candidates = layoutsOf(ranks, shape.length).filter(fits)
        if (candidates.length === 0) return !fits(dims)
        valid++
        // Valid, never more ranks along an axis than it has points, and no valid layout has less halo.
        return fits(dims) && dims.every((p, i) => p <= shape[i]!) && candidates.every((c) => surface(c, shape) >= surface(dims, shape))
      },
    ),
    { numRuns: 1000, seed: 20261130 },
  )
  t.true(valid > 300, `only ${valid} cases had a valid layout`)
})

test("decompose refuses nonsense with the argument named", (t) => {
  t.throws(() => decompose(0, [4]), { message: /ranks = 0 must be a positive integer/ })
  t.throws(() => decompose(2, []), { message: /shape = \[\] must be one or more positive integers/ })
  t.throws(() => decompose(2, [4, 0]), { message: /shape = \[4, 0\]/ })
  t.throws(() => decompose(2, [4], 0), { message: /minimumBlock = 0 must be positive integers/ })
})

test("remainders go to the first ranks: 1001 points on 4 ranks are 251, 250, 250, 250", (t) => {
  const layout = layoutGrid(Grid.line({ n: 1001 }), 4, 1)
  t.deepEqual(layout.blocks.map((b) => b.count[0]), [251, 250, 250, 250])
  t.deepEqual(layout.blocks.map((b) => b.start[0]), [0, 251, 501, 751])
})

test("a Neumann edge needs one point more than the ghost width, to mirror about", (t) => {
  t.notThrows(() => layoutGrid(Grid.line({ n: 8, boundary: Grid.dirichlet(0) }), 4, 2))
  t.throws(() => layoutGrid(Grid.line({ n: 8, boundary: Grid.neumann }), 4, 2), { instanceOf: GridTooSmall, message: /fewer than 3 \(ghost width 2, plus the point a Neumann edge mirrors about\)/ })
})

test("a rank layout can be fixed, and a wrong one is refused", (t) => {
  const grid = Grid.plane({ n: 64 })
  t.deepEqual(layoutGrid(grid, 4, 1, [4, 1]).dims, [4, 1])
  t.throws(() => layoutGrid(grid, 4, 1, [3, 1]), { message: /rank layout = \[3, 1\] must have 2 entries whose product is 4/ })
})

test("a grid thinner than ranks × ghost width is refused with the numbers", (t) => {
  const error = t.throws(() => layoutGrid(Grid.line({ n: 10 }), 6, 2), { instanceOf: GridTooSmall })
  t.like(error, { dimension: 0, points: 10, ranksAlong: 6, ghost: 2, minimum: 2 })
  t.regex(error.message, /10 points along dimension 0 on 6 ranks leaves blocks of 1 points, fewer than 2/)
})

test("range chunks are dealt exactly once, block or cyclic (property)", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 64 }), fc.constantFrom("block" as const, "cyclic" as const), (n, chunk, ranks, distribution) => {
      const range = Range.of(n, { chunk })
      const seen = new Uint8Array(Range.chunkCount(range))
      let items = 0
      for (let r = 0; r < ranks; r++)
        for (const c of chunksOf(range, ranks, r, distribution)) {
          seen[c]!++
          const [s, e] = Range.chunkBounds(range, c)
          items += e - s
          if (distribution === "cyclic" && c % ranks !== r) return false
        }
      return items === n && seen.every((x) => x === 1)
    }),
    { numRuns: 300, seed: 7 },
  )
  t.pass()
})
