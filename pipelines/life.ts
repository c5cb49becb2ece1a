// Conway's Game of Life on a periodic n × n grid of Uint8 cells (1 byte a cell:
// 8× less memory and halo traffic than Float64). The eight neighbours include
// the diagonals: radius 1 reaches the corners because ghost faces span the
// whole block. The start: a glider every --gap points along both axes, all
// heading the same way. A glider is the same glider shifted by (1, 1) every
// 4 steps, so after 4k steps the field is the start shifted by (k, k) (mod n).
//   tsx pipelines/life.ts --ranks 4 [--n 64 --gap 16 --steps 100]
import { Grid, Param, Pipeline } from "rankflow"

/** The glider's live cells (row, column) in its 3 × 3 box; it moves towards +row, +column. */
const GLIDER = ["0,1", "1,2", "2,0", "2,1", "2,2"]
/** 1 where a glider of the start lives, at (row, column), on a grid of gliders `gap` apart. */
export const start = (row: number, column: number, gap: number): number => (GLIDER.includes(`${row % gap},${column % gap}`) ? 1 : 0)

export const life = Pipeline.program({
  name: "life",
  description: "Conway's Game of Life on a periodic grid of Uint8 cells, gliders shifting by (k, k) every 4k steps",
  params: { n: Param.int(64, "cells per side", { min: 4 }), gap: Param.int(16, "points between gliders (divides n)", { min: 5 }), steps: Param.int(100, "generations", { min: 1 }) },
  build: ({ n, gap, steps }) =>
    Pipeline.distribute(Grid.plane({ n, length: n, boundary: Grid.periodic }), (x, y) => start(x, y, gap), { type: "uint8" })
      .iterate(steps, (s) =>
        s.haloExchange().stencil((u, i, row) => {
          const alive = u[i - row - 1]! + u[i - row]! + u[i - row + 1]! + u[i - 1]! + u[i + 1]! + u[i + row - 1]! + u[i + row]! + u[i + row + 1]!
          return alive === 3 || (alive === 2 && u[i] === 1) ? 1 : 0
        }),
      )
      .gather(),
  report: (cells, { n, gap, steps }) => {
    let live = 0
    for (const c of cells) live += c
    const k = steps / 4
    const known = Number.isInteger(k) && n % gap === 0 // gliders tile the torus: each moves as if alone
    const shifted = known && cells.every((c, i) => c === start((Math.floor(i / n) - k + n * k) % n, ((i % n) - k + n * k) % n, gap))
    return { "live cells": live, "equals the start shifted by (steps/4, steps/4)": known ? String(shifted) : "n/a (steps not a multiple of 4, or gap not dividing n)" }
  },
})

await Pipeline.main(life)
