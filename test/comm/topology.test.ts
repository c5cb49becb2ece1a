import test from "ava"
import fc from "fast-check"
import { blockCounts, blockRange, computeDims, displacements } from "rankflow"
import { onRanks } from "../helpers.ts"

for (const ranks of [2, 3, 4, 5, 8]) {
  test(`split by parity gives independent halves ranked by key (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "topology.ts", "splitParity")
    for (const [world, got] of results.entries()) {
      const members = [...Array(ranks).keys()].filter((r) => r % 2 === world % 2).reverse() // key = -rank
      const me = members.indexOf(world)
      const left = members[(me - 1 + members.length) % members.length]
      t.deepEqual(got, {
        rank: me,
        size: members.length,
        sum: members.reduce((a, b) => a + b, 0),
        members,
        gotFromLeft: left,
        statusSource: (me - 1 + members.length) % members.length,
        none: world === 0 ? null : ranks - 1,
      })
    }
  })

  test(`a dup'd communicator's messages never mix with the original's (${ranks} ranks)`, async (t) => {
    for (const got of await onRanks(ranks, "topology.ts", "dupIsolates"))
      t.deepEqual(got, { world: "on the world", twin: "on the twin", twinSum: ranks })
  })

  test(`Cartesian grid: coords, shifts with PROC_NULL edges, rankOf, sub-grids (${ranks} ranks)`, async (t) => {
    const results = await onRanks<Record<string, unknown>>(ranks, "topology.ts", "grid")
    const dims = computeDims(ranks, 2)
    const [rows, cols] = dims as [number, number]
    const rankAt = (i: number, j: number): number => i * cols + j
    for (const [r, got] of results.entries()) {
      const i = Math.floor(r / cols)
      const j = r % cols
      t.deepEqual(got, {
        dims,
        coords: [i, j],
        down: { source: rankAt((i - 1 + rows) % rows, j), dest: rankAt((i + 1) % rows, j) },
        across: { source: j === 0 ? -2 : rankAt(i, j - 1), dest: j === cols - 1 ? -2 : rankAt(i, j + 1) },
        fromLeft: j === 0 ? null : rankAt(i, j - 1),
        rankOfOutside: -2,
        rankOfWrapped: r,
        rowSum: [...Array(cols).keys()].reduce((a, k) => a + rankAt(i, k), 0),
        rowDims: [cols],
        columnSize: rows,
        nullRecv: null,
      }, `rank ${r}`)
    }
  })
}

test("a grid smaller than the communicator leaves the extra ranks out", async (t) => {
  t.deepEqual(await onRanks(3, "topology.ts", "smallGrid"), [0, 1, null])
})

test("computeDims balances like MPI_Dims_create", (t) => {
  t.deepEqual(computeDims(12, 2), [4, 3])
  t.deepEqual(computeDims(8, 3), [2, 2, 2])
  t.deepEqual(computeDims(7, 2), [7, 1])
  t.deepEqual(computeDims(16, 2), [4, 4])
  t.deepEqual(computeDims(12, 2, [0, 2]), [6, 2])
  t.throws(() => computeDims(12, 2, [5, 0]), { message: /does not divide 12/ })
  t.throws(() => computeDims(0, 2), { message: /size = 0 must be a positive integer/ })
})

test("property: computeDims multiplies to size, is non-increasing, and no better split exists for 2-D", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 4 }), (size, ndims) => {
        const dims = computeDims(size, ndims)
        const product = dims.reduce((a, b) => a * b, 1)
        const sorted = dims.every((d, i) => i === 0 || d <= dims[i - 1]!)
        let balanced = true
        if (ndims === 2) for (let a = 1; a * a <= size; a++) if (size % a === 0 && dims[0]! - dims[1]! > size / a - a) balanced = false
        return product === size && sorted && balanced && dims.length === ndims
      }),
    ),
  )
})

test("property: block partitions cover [0, n) exactly once, sizes differ by at most one, larger blocks first", (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 64 }), (n, parts) => {
        const counts = blockCounts(n, parts)
        const starts = displacements(counts)
        const ranges = counts.map((_, i) => blockRange(n, parts, i))
        return (
          counts.reduce((a, b) => a + b, 0) === n &&
          Math.max(...counts) - Math.min(...counts) <= 1 &&
          counts.every((c, i) => i === 0 || c <= counts[i - 1]!) &&
          ranges.every(([s, e], i) => s === starts[i] && e - s === counts[i] && (i === 0 ? s === 0 : s === ranges[i - 1]![1])) &&
          ranges[parts - 1]![1] === n
        )
      }),
    ),
  )
})
