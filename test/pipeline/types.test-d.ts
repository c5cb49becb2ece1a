// Type-level expectations of the pipeline DSL, checked by `npm run typecheck`
// (this file is type-checked, never run): misuse must not compile.
import { monoid, number } from "fp-ts"
import { type Comm, Grid, MAX, Param, Pipeline, Range, SUM } from "rankflow"

declare const comm: Comm
const line = Grid.line({ n: 100 })
const plane = Grid.plane({ n: 64 })

// Results are typed by the terminal.
export const field: Float64Array | undefined = Pipeline.run(Pipeline.distribute(line, Math.sin).gather(), comm)
export const peak: number | undefined = Pipeline.run(Pipeline.distribute(plane, (x, y) => x * y).reduce(MAX), comm)
export const count: number | undefined = Pipeline.run(Pipeline.distribute(Range.of(10)).mapLocal((c) => c.end - c.start).allreduce(), comm)

// A struct of numbers reduces with a struct monoid …
const stats = Pipeline.distribute(Range.of(10)).mapLocal((c) => ({ sum: c.start, count: c.end - c.start }))
export const summary: { sum: number; count: number } | undefined = Pipeline.run(stats.reduce(monoid.struct({ sum: number.MonoidSum, count: number.MonoidSum })), comm)
// … but objects have no default reduction,
// @ts-expect-error reduce() without an op needs numbers
stats.reduce()
// and a numeric op does not apply to them.
// @ts-expect-error SUM reduces numbers, not { sum, count }
stats.reduce(SUM)

// A 2-D stencil (it reads u[i ± row]) does not fit a 1-D grid.
Pipeline.distribute(line, Math.sin).iterate(1, (s) =>
  // @ts-expect-error a 1-D stencil is (u, i, x): there is no row stride
  s.haloExchange().stencil((u: Float64Array, i: number, row: number, x: number, y: number) => u[i + row]! + x + y),
)
// A stencil must return a number.
// @ts-expect-error the new value of a point is a number
Pipeline.distribute(line, Math.sin).stencil((u, i) => `${u[i]}`)
// The initial value of a 1-D grid is a function of one coordinate.
// @ts-expect-error (x, y) => … initialises a plane, not a line
Pipeline.distribute(line, (x: number, y: number) => x + y)
// scan runs along a line only.
// @ts-expect-error scan is not defined on 2-D fields
Pipeline.distribute(plane, () => 0).scan(SUM)
// A loop body has no terminals: results are collected after the loop.
// @ts-expect-error gather is not a stage
Pipeline.distribute(line, Math.sin).iterate(2, (s) => s.gather())

// Programs type their parameters from the declarations.
export const program = Pipeline.program({
  name: "typed",
  params: { n: Param.int(10), label: Param.string("x") },
  build: ({ n, label }) => {
    const text: string = label
    void text
    return Pipeline.distribute(Grid.line({ n }), () => n).gather()
  },
})
Pipeline.program({
  name: "wrong",
  params: { n: Param.int(10) },
  // @ts-expect-error there is no parameter m
  build: ({ m }) => Pipeline.distribute(Grid.line({ n: m }), () => 0).gather(),
})
// build also learns the run's shape: the ranks it is planned for and the threads running them.
export const shaped = Pipeline.program({
  name: "shaped",
  params: { n: Param.int(10) },
  build: ({ n }, { ranks, threads }) => Pipeline.distribute(Grid.plane({ n: [2, n * threads] }), () => 0, { rankDims: [1, ranks] }).gather(),
})
Pipeline.program({
  name: "wrong context",
  params: {},
  // @ts-expect-error the context has ranks and threads, no size
  build: (_, { size }) => Pipeline.distribute(Grid.line({ n: size }), () => 0).gather(),
})
// Stability numbers are numbers, or one per dimension.
Pipeline.distribute(plane, () => 0).stencil((u, i) => u[i]!, { advection: [0.5, -0.25], wave: 0.5, diffusion: 0.1 })
// @ts-expect-error a diffusion coefficient is one number
Pipeline.distribute(plane, () => 0).stencil((u, i) => u[i]!, { diffusion: [0.1, 0.1] })

// Chunk results travel between ranks: a function cannot.
// @ts-expect-error a function is not a value a rank can send
Pipeline.distribute(Range.of(10)).mapLocal((c) => () => c.start)
// @ts-expect-error nor from a collection
Pipeline.distribute([1, 2, 3]).map((x) => () => x)
export const sendable = Pipeline.distribute([1, 2, 3]).map((x) => ({ x, doubled: Float64Array.of(2 * x) })).gather()

// Element types: one field's array follows its declared type.
export const cells: Uint8Array | undefined = Pipeline.run(Pipeline.distribute(plane, () => 0, { type: "uint8" }).gather(), comm)
Pipeline.distribute(plane, () => 0, { type: "int32" }).iterate(1, (s) => s.haloExchange().stencil((u: Int32Array, i, row) => u[i - row]! + u[i + row]!))
// @ts-expect-error an element type rankflow does not have
Pipeline.distribute(plane, () => 0, { type: "float16" })

// Several fields: point functions see every field by name, previous levels only where declared.
const fields = Pipeline.distribute(plane, { u: (x, y) => x * y, c: { init: () => 1, type: "uint8" }, w: { init: () => 0, previous: () => 0 } })
fields.iterate(1, (s) =>
  s.haloExchange().stencil({
    u: (f, i, row) => f.u[i - row]! + f.c[i]! + f.prev.w[i]!,
    w: (f, i) => 2 * f.w[i]! - f.prev.w[i]!,
  }),
)
// @ts-expect-error u keeps no previous level
fields.stencil({ u: (f, i) => f.prev.u[i]! })
// @ts-expect-error there is no field v
fields.stencil({ v: (f, i) => f.u[i]! })
// @ts-expect-error reads names fields of the grid only
fields.stencil({ u: (f, i) => f.u[i]! }, { reads: ["v"] })
export const all: { readonly u: Float64Array; readonly c: Uint8Array; readonly w: Float64Array; readonly prev: { readonly w: Float64Array } } | undefined = Pipeline.run(fields.gather(), comm)
export const one: Uint8Array | undefined = Pipeline.run(fields.gather("c"), comm)
export const total: number | undefined = Pipeline.run(fields.reduce(SUM, "c"), comm)
export const paths: { readonly u: string } | undefined = Pipeline.run(fields.save({ u: "u.npy" }), comm)
// @ts-expect-error a record of fields is reduced by field name (or a local function)
fields.reduce(SUM)
