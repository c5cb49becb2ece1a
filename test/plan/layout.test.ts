// The planner's layouts for any rank count, without threads: blocks cover the
// grid exactly once, differ by at most one point per dimension, neighbours are
// mutual, edges are where the grid ends; range chunks are dealt exactly once.
import test from "ava"
import fc from "fast-check"
import { computeDims, Grid, GridTooSmall, Range } from "rankflow"
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
      const dims = computeDims(ranks, grid.dims)
      let layout
      try {
        layout = layoutGrid(grid, ranks, ghost)
      } catch (error) {
        // Refused exactly when some dimension has fewer points per rank than max(1, ghost).
        if (!(error instanceof GridTooSmall)) throw error
        return shape.some((n, d) => Math.floor(n / dims[d]!) < minimumBlock(grid, d, ghost))
      }
      laidOut++
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
