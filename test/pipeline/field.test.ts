// Ghost exchange on real ranks, checked cell by cell: after one exchange every
// ghost equals the neighbour's interior point (wrapped for periodic
// dimensions), and boundary conditions apply on global edges only —
// Dirichlet values, Neumann mirrors — corners included, in 1-D, 2-D and 3-D.
import test from "ava"
import fc from "fast-check"
import { computeDims, Grid } from "rankflow"
import { gridOf, onRanks } from "../helpers.ts"
import { valueAt, type ExchangeCase, type ExchangedBlock } from "../fixtures/fields.ts"

const sideArb = fc.oneof(
  fc.constant(Grid.periodic).map((p) => [p, p] as const),
  fc.tuple(fc.oneof(fc.constant(Grid.neumann), fc.integer({ min: -3, max: 3 }).map((v) => Grid.dirichlet(v))), fc.oneof(fc.constant(Grid.neumann), fc.integer({ min: 1, max: 5 }).map((v) => Grid.dirichlet(v)))),
)

function casesFor(ranks: number, seed: number): ExchangeCase[] {
  const caseArb = fc
    .record({ dims: fc.constantFrom(1, 2, 3), ghost: fc.integer({ min: 1, max: 2 }), sides: fc.array(sideArb, { minLength: 3, maxLength: 3 }), extra: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 3, maxLength: 3 }) })
    .map(({ dims, ghost, sides, extra }): ExchangeCase => {
      const rankDims = computeDims(ranks, dims)
      // Enough points per rank along each dimension (one more than the ghost width for a Neumann mirror), plus a remainder.
      const n = rankDims.map((p, d) => Math.max(2, p * (ghost + (sides[d]!.some((b) => b.kind === "neumann") ? 1 : 0)) + extra[d]!))
      const boundary = sides.slice(0, dims)
      const grid = gridOf(dims, n, boundary)
      return { grid, ghost }
    })
  return fc.sample(caseArb, { numRuns: 24, seed })
}

/** What a cell at global index `gi` (possibly outside the grid) must hold after an exchange. */
function expected(grid: Grid.Grid, gi: number[]): number {
  const shape = grid.shape as ReadonlyArray<number>
  for (let d = gi.length - 1; d >= 0; d--) {
    const n = shape[d]!
    if (gi[d]! >= 0 && gi[d]! < n) continue
    const side = gi[d]! < 0 ? 0 : 1
    const b = grid.boundary[d]![side]
    const moved = [...gi]
    if (b.kind === "dirichlet") return b.value
    moved[d] = b.kind === "periodic" ? (gi[d]! + n) % n : side === 0 ? -gi[d]! : 2 * (n - 1) - gi[d]!
    return expected(grid, moved)
  }
  for (let d = gi.length - 1; d >= 0; d--)
    for (const side of [0, 1] as const) {
      const b = grid.boundary[d]![side]
      if (b.kind === "dirichlet" && gi[d] === (side === 0 ? 0 : shape[d]! - 1)) return b.value
    }
  return valueAt(...gi.map((i, d) => Grid.coordinate(grid, d, i)))
}

function check(grid: Grid.Grid, ghost: number, block: ExchangedBlock): string | undefined {
  const local = block.count.map((c) => c + 2 * ghost)
  const total = local.reduce((a, b) => a * b, 1)
  for (let k = 0; k < total; k++) {
    const idx: number[] = []
    let rest = k
    for (let d = local.length - 1; d >= 0; d--) {
      idx[d] = rest % local[d]!
      rest = Math.floor(rest / local[d]!)
    }
    const gi = idx.map((i, d) => block.start[d]! + i - ghost)
    const want = expected(grid, gi)
    if (!Object.is(block.u[k], want)) return `cell ${JSON.stringify(idx)} (global ${JSON.stringify(gi)}) holds ${block.u[k]}, expected ${want}`
  }
  return undefined
}

for (const [threads, partitions] of [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [8, 8], [1, 4], [2, 5], [3, 8]] as const) {
  const what = threads === partitions ? `${threads} ranks` : `${partitions} partitions on ${threads} threads`
  test(`after one exchange every ghost is the neighbour's point or the boundary's value (24 random grids, ${what})`, async (t) => {
    const cases = casesFor(partitions, 100 + partitions)
    const results = await onRanks<ExchangedBlock[][]>(threads, "fields.ts", "exchangeOnce", { cases, partitions })
    for (const [i, c] of cases.entries()) {
      const blocks = results.flatMap((perCase) => perCase[i]!)
      t.deepEqual(blocks.map((b) => b.partition), [...Array(partitions).keys()])
      for (const block of blocks) {
        const where = `${c.grid.dims}-D ${JSON.stringify(c.grid.shape)} ghost ${c.ghost} boundary ${JSON.stringify(c.grid.boundary)} partition ${block.partition}`
        t.is(check(c.grid, c.ghost, block), undefined, where)
      }
    }
  })
}
