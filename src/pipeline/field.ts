/**
 * One partition's block of a distributed grid field at run time: the two
 * buffers with their ghost frame, the slabs its ghost exchange sends and
 * fills, its boundary conditions on global edges, and stencil sweeps
 * compiled once per stencil so that V8 inlines the user's point function.
 *
 * Steady state allocates nothing: every index list and view is built in the
 * constructor.
 *
 * Layer: pipeline (rank side).
 */
import { StencilOutOfRadius } from "../errors.ts"
import type { Block, Stencil1, Stencil2, Stencil3 } from "../plan/description.ts"
import type { Boundary, Dim, Grid, PerDim } from "../plan/grid.ts"
import type { GridBlock } from "../plan/layout.ts"

/** A compiled stencil sweep over a block: reads `u`, writes `out`. */
export type Sweep = (u: Float64Array, out: Float64Array, block: FieldBlock) => void

/**
 * A slab of the block (all of it along other dimensions): its flat indices,
 * and when it is contiguous (the slowest dimension) a view of each buffer.
 */
export interface Slab {
  readonly index: Int32Array
  readonly views?: readonly [Float64Array, Float64Array]
}

/** The slabs of one dimension: faces sent to each neighbour, ghosts filled from them. */
export interface Faces {
  readonly sendLo: Slab
  readonly sendHi: Slab
  readonly recvLo: Slab
  readonly recvHi: Slab
}

/** `u[dst[k]] = value` or `u[dst[k]] = u[src[k]]`: a boundary condition on a global edge. */
export interface Fill {
  readonly dst: Int32Array
  readonly src?: Int32Array
  readonly value: number
}

/** A partition's block, implementing the `Block` kernels see. */
export class FieldBlock implements Block {
  u: Float64Array
  next: Float64Array
  step = 0
  /** Which of the two buffers `u` is (0 or 1), to pick slab views. */
  current: 0 | 1 = 0
  readonly dims
  readonly ghost: number
  readonly shape
  readonly strides
  readonly start
  readonly count
  /** The update range [lo, hi) per dimension (widened between exchanges when ghosts are exchanged less often). */
  lo
  hi
  readonly length: number
  /** Per dimension: global index = local index + offset; coordinate = origin + global index · spacing. */
  readonly offset: ReadonlyArray<number>
  readonly origin: ReadonlyArray<number>
  readonly spacing: ReadonlyArray<number>
  /** Exchange slabs per dimension. */
  readonly faces: ReadonlyArray<Faces>
  /** Boundary fills per dimension (global edges only). */
  readonly fills: ReadonlyArray<ReadonlyArray<Fill>>
  /**
   * The fills to redo after every update: Neumann mirrors. Dirichlet ghosts
   * are written once, in both buffers — nothing ever writes a ghost beyond a
   * global edge again.
   */
  readonly refills: ReadonlyArray<ReadonlyArray<Fill>>
  private readonly buffers: readonly [Float64Array, Float64Array]

  constructor(
    private readonly grid: Grid,
    readonly block: GridBlock,
    ghost: number,
  ) {
    const g = ghost
    this.dims = grid.dims
    this.ghost = g
    const shape = block.count.map((c) => c + 2 * g)
    const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1))
    this.shape = shape as unknown as PerDim<typeof grid.dims, number>
    this.strides = strides as unknown as PerDim<typeof grid.dims, number>
    this.start = block.start as unknown as PerDim<typeof grid.dims, number>
    this.count = block.count as unknown as PerDim<typeof grid.dims, number>
    const fixed = (b: Boundary, atEdge: boolean) => (atEdge && b.kind === "dirichlet" ? 1 : 0)
    this.lo = block.count.map((_, d) => g + fixed(grid.boundary[d]![0], block.edge[d]![0])) as unknown as PerDim<typeof grid.dims, number>
    this.hi = block.count.map((c, d) => g + c - fixed(grid.boundary[d]![1], block.edge[d]![1])) as unknown as PerDim<typeof grid.dims, number>
    this.offset = block.start.map((s) => s - g)
    this.origin = grid.origin
    this.spacing = grid.spacing
    this.length = shape.reduce((a, b) => a * b, 1)
    this.u = new Float64Array(this.length)
    this.next = new Float64Array(this.length)
    this.buffers = [this.u, this.next]
    this.faces = block.count.map((c, d) => ({
      sendLo: this.slab(d, g, g),
      sendHi: this.slab(d, c, g),
      recvLo: this.slab(d, 0, g),
      recvHi: this.slab(d, g + c, g),
    }))
    this.fills = block.count.map((_, d) => this.boundaryFills(d))
    this.refills = this.fills.map((fills) => fills.filter((f) => f.src !== undefined))
  }

  /** Coordinate of local index `i` along dimension `d` (the same formula on every rank: bit-identical). */
  readonly x = (d: number, i: number): number => this.origin[d]! + (i + this.offset[d]!) * this.spacing[d]!

  /** Fills the interior from `init(x, y, z)`, then the fixed edge values, in both buffers. */
  initialize(init: (...coords: number[]) => number): void {
    const dims = this.dims
    const { u, x } = this
    const g = this.ghost
    const [c0, c1 = 1, c2 = 1] = this.count
    const [s0, s1 = 1] = this.strides
    for (let a = g; a < g + c0; a++)
      for (let b = dims > 1 ? g : 0; b < (dims > 1 ? g + c1 : 1); b++)
        for (let c = dims > 2 ? g : 0; c < (dims > 2 ? g + c2 : 1); c++) {
          const k = dims === 1 ? a : dims === 2 ? a * s0 + b : a * s0 + b * s1 + c
          u[k] = dims === 1 ? init(x(0, a)) : dims === 2 ? init(x(0, a), x(1, b)) : init(x(0, a), x(1, b), x(2, c))
        }
    this.fixEdges(u)
    for (const fills of this.fills) for (const fill of fills) runFill(u, fill)
    this.next.set(u)
  }

  /** Dirichlet edge points hold their value (they are never updated). */
  private fixEdges(u: Float64Array): void {
    for (let d = 0; d < this.dims; d++)
      for (const side of [0, 1] as const) {
        const b = this.grid.boundary[d]![side]
        if (b.kind !== "dirichlet" || !this.block.edge[d]![side]) continue
        const at = side === 0 ? this.ghost : this.ghost + this.block.count[d]! - 1
        for (const k of slabIndices(this.shape, this.strides, d, at, 1)) u[k] = b.value
      }
  }

  /**
   * The update range widened by `depth` points on every side with a
   * neighbour: the part of the ghost frame still valid `depth` steps before the
   * next exchange.
   */
  widened(depth: number): { readonly lo: PerDim<Dim, number>; readonly hi: PerDim<Dim, number> } {
    const n = this.block.neighbours
    return {
      lo: (this.lo as ReadonlyArray<number>).map((l, d) => l - (n[d]![0] >= 0 ? depth : 0)) as unknown as PerDim<Dim, number>,
      hi: (this.hi as ReadonlyArray<number>).map((h, d) => h + (n[d]![1] >= 0 ? depth : 0)) as unknown as PerDim<Dim, number>,
    }
  }

  /** Applies the boundary conditions that change with the field, in every dimension (between exchanges). */
  applyBoundaries(): void {
    for (const fills of this.refills) for (const fill of fills) runFill(this.u, fill)
  }

  swap(): void {
    const t = this.u
    this.u = this.next
    this.next = t
    this.current = this.current === 0 ? 1 : 0
  }

  /** The interior points in row-major order, written into `out` at `at`. */
  copyInterior(out: Float64Array, at: number): void {
    const rowLength = this.block.count[this.dims - 1]!
    const rows = this.block.count.slice(0, -1).reduce((a, b) => a * b, 1)
    for (let r = 0; r < rows; r++) {
      let rest = r
      let k = this.ghost
      for (let d = this.dims - 2; d >= 0; d--) {
        k += (this.ghost + (rest % this.block.count[d]!)) * this.strides[d]!
        rest = Math.floor(rest / this.block.count[d]!)
      }
      out.set(this.u.subarray(k, k + rowLength), at + r * rowLength)
    }
  }

  /** Points of the interior. */
  get points(): number {
    return this.block.count.reduce((a, b) => a * b, 1)
  }

  private slab(d: number, from: number, width: number): Slab {
    const index = slabIndices(this.shape, this.strides, d, from, width)
    if (d !== 0) return { index }
    // The slowest dimension's slabs are contiguous: sent and received in place.
    const [a, b] = this.buffers
    return { index, views: [a.subarray(index[0]!, index[0]! + index.length), b.subarray(index[0]!, index[0]! + index.length)] }
  }

  /** Boundary conditions of dimension d's edge ghosts, where the block touches a global edge. */
  private boundaryFills(d: number): Fill[] {
    const fills: Fill[] = []
    const g = this.ghost
    const c = this.block.count[d]!
    for (const side of [0, 1] as const) {
      if (!this.block.edge[d]![side]) continue
      const b = this.grid.boundary[d]![side]
      if (b.kind === "dirichlet") fills.push({ dst: slabIndices(this.shape, this.strides, d, side === 0 ? 0 : g + c, g), value: b.value })
      else if (b.kind === "neumann")
        for (let k = 1; k <= g; k++) {
          // Mirror about the edge point: u[edge − k] = u[edge + k].
          const edge = side === 0 ? g : g + c - 1
          const dir = side === 0 ? -1 : 1
          fills.push({ dst: slabIndices(this.shape, this.strides, d, edge + dir * k, 1), src: slabIndices(this.shape, this.strides, d, edge - dir * k, 1), value: 0 })
        }
    }
    return fills
  }
}

/** Flat indices of the slab where dimension d is in [from, from + width), every other dimension full, row-major. */
function slabIndices(shape: ReadonlyArray<number>, strides: ReadonlyArray<number>, d: number, from: number, width: number): Int32Array {
  const extents = shape.map((n, e) => (e === d ? width : n))
  const total = extents.reduce((a, b) => a * b, 1)
  const out = new Int32Array(total)
  const index = new Array<number>(shape.length).fill(0)
  for (let k = 0; k < total; k++) {
    let flat = 0
    for (let e = 0; e < shape.length; e++) flat += (e === d ? from + index[e]! : index[e]!) * strides[e]!
    out[k] = flat
    for (let e = shape.length - 1; e >= 0; e--) {
      if (++index[e]! < extents[e]!) break
      index[e] = 0
    }
  }
  return out
}

export function runFill(u: Float64Array, fill: Fill): void {
  const { dst, src, value } = fill
  if (src === undefined) for (let k = 0; k < dst.length; k++) u[dst[k]!] = value
  else for (let k = 0; k < dst.length; k++) u[dst[k]!] = u[src[k]!]!
}

// ---- stencil sweeps -------------------------------------------------------------

/**
 * Compiles a sweep for one stencil. A fresh function per stencil keeps the
 * call `f(u, i, …)` monomorphic, so V8 inlines the user's point function into
 * the loop — the difference between a kernel call per point and none.
 */
export function compileSweep(f: Stencil1 | Stencil2 | Stencil3, dims: number): Sweep {
  // Coordinates are origin + (i + offset)·spacing, the formula of FieldBlock.x: bit-identical on every rank.
  // They are computed only when the function declares those parameters (f.length), so a stencil that
  // does not use them runs the plain loop.
  const wants = (position: number) => f.length > position
  const coord = (d: number, index: string) => `o${d} + (${index} + f${d}) * h${d}`
  const locals = Array.from({ length: dims }, (_, d) => `o${d} = b.origin[${d}], f${d} = b.offset[${d}], h${d} = b.spacing[${d}]`).join(", ")
  const body =
    dims === 1
      ? `const ${locals}, hi0 = b.hi[0]
         for (let i = b.lo[0]; i < hi0; i++) out[i] = f(u, i${wants(2) ? `, ${coord(0, "i")}` : ""})`
      : dims === 2
        ? `const ${locals}, s0 = b.strides[0], lo1 = b.lo[1], hi1 = b.hi[1], hi0 = b.hi[0]
           for (let a = b.lo[0]; a < hi0; a++) {
             const x = ${coord(0, "a")}, base = a * s0, end = base + hi1
             for (let k = base + lo1; k < end; k++) out[k] = f(u, k, s0${wants(3) ? ", x" : ""}${wants(4) ? `, ${coord(1, "(k - base)")}` : ""})
           }`
        : `const ${locals}, s0 = b.strides[0], s1 = b.strides[1], lo2 = b.lo[2], hi2 = b.hi[2]
           for (let a = b.lo[0]; a < b.hi[0]; a++) {
             const x = ${coord(0, "a")}
             for (let c = b.lo[1]; c < b.hi[1]; c++) {
               const y = ${coord(1, "c")}, base = a * s0 + c * s1, end = base + hi2
               for (let k = base + lo2; k < end; k++) out[k] = f(u, k, s0, s1${wants(4) ? ", x" : ""}${wants(5) ? ", y" : ""}${wants(6) ? `, ${coord(2, "(k - base)")}` : ""})
             }
           }`
  return new Function("f", `"use strict"; return function sweep(u, out, b) { ${body} }`)(f) as Sweep
}

/**
 * Debug mode: runs the stencil once over the block through a proxy that
 * records every index it reads, and throws `StencilOutOfRadius` for a read
 * farther than `radius` from the centre along any dimension.
 */
export function checkRadius(f: Stencil1 | Stencil2 | Stencil3, radius: number, block: FieldBlock, name: string): void {
  let centre = 0
  const strides = block.strides as ReadonlyArray<number>
  const probe = new Proxy(block.u, {
    get(target, key) {
      if (typeof key === "string" && /^-?\d+$/.test(key)) {
        const offsets = perDimOffsets(Number(key) - centre, strides)
        if (offsets.some((o) => Math.abs(o) > radius)) throw new StencilOutOfRadius(name, offsets, radius)
        return target[Number(key)]
      }
      const value = Reflect.get(target, key, target) as unknown
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
  const sweep = (u: Float64Array, _out: Float64Array, b: Block): void => {
    const dims = b.dims
    const [lo0, lo1 = 0, lo2 = 0] = b.lo
    const [hi0, hi1 = 1, hi2 = 1] = b.hi
    for (let a = lo0; a < hi0; a++)
      for (let c = dims > 1 ? lo1 : 0; c < (dims > 1 ? hi1 : 1); c++)
        for (let e = dims > 2 ? lo2 : 0; e < (dims > 2 ? hi2 : 1); e++) {
          centre = dims === 1 ? a : dims === 2 ? a * strides[0]! + c : a * strides[0]! + c * strides[1]! + e
          if (dims === 1) (f as Stencil1)(u, centre, b.x(0, a))
          else if (dims === 2) (f as Stencil2)(u, centre, strides[0]!, b.x(0, a), b.x(1, c))
          else (f as Stencil3)(u, centre, strides[0]!, strides[1]!, b.x(0, a), b.x(1, c), b.x(2, e))
        }
  }
  sweep(probe, block.next, block)
}

/** Splits a flat offset into per-dimension offsets (nearest decomposition). */
function perDimOffsets(flat: number, strides: ReadonlyArray<number>): number[] {
  const out: number[] = []
  for (const s of strides) {
    const o = Math.round(flat / s)
    out.push(o)
    flat -= o * s
  }
  return out
}
