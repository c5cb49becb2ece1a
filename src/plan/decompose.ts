/**
 * Which rank layout fits a grid's shape: the factorization of the rank count
 * over the dimensions that leaves every block thick enough and, among those,
 * sends the fewest ghost points (MPI_Dims_create weighted by the extent, as
 * PETSc's DMDA chooses its process grid).
 *
 * Layer: plan (pure, no imports but errors).
 */
import { InvalidArgument } from "../errors.ts"

/**
 * The rank layout the planner uses for a grid of `shape` points on `ranks`
 * ranks (ranks per dimension, their product `ranks`).
 *
 * **When to use**: to know, before planning, how a grid will be cut — e.g. in
 * a program's `build(params, { ranks })` — or to lay out a `comm.cart` over a
 * non-square domain. After planning, `Pipeline.plan(p, ranks).source.layout.dims`
 * holds the layout actually used (the same one unless `rankDims` fixed it).
 *
 * **Details**: among all ordered factorizations of `ranks` into
 * `shape.length` factors, the valid ones leave every block at least
 * `minimumBlock` points thick along each dimension (⌊n_d / p_d⌋ ≥ min_d: the
 * ghost width the neighbours read, one more beside a Neumann edge; default 1,
 * i.e. never more ranks along an axis than it has points). Among the valid
 * ones it takes the one with the least halo surface Σ_d (p_d − 1)·Π_(e≠d) n_e
 * (the points on the cuts, proportional to the bytes each exchange moves),
 * ties going to the most balanced layout (the smallest largest factor, as
 * `computeDims`), then to more ranks along the earlier dimensions (their
 * faces are the contiguous ones in row-major order). For square and cubic
 * grids this is `computeDims`'s balanced layout. When no layout is valid it
 * returns the one closest to fitting (the largest thinnest block relative to
 * its minimum), which the planner then refuses with `GridTooSmall` naming the
 * dimension. Exhaustive over divisors: about 1 ms for 4096 ranks in 3-D,
 * 20 ms for the highly composite 720720.
 *
 * @see computeDims for the shape-blind MPI_Dims_create.
 *
 * @example
 * ```ts
 * import { decompose } from "rankflow"
 * console.log(decompose(3, [2, 1000]), decompose(4, [1000, 10]), decompose(4, [64, 64])) // [ 1, 3 ] [ 4, 1 ] [ 2, 2 ]
 * ```
 */
export function decompose(ranks: number, shape: ReadonlyArray<number>, minimumBlock: number | ReadonlyArray<number> = 1): number[] {
  if (!Number.isSafeInteger(ranks) || ranks < 1) throw new InvalidArgument("decompose", "ranks", ranks, "must be a positive integer")
  if (shape.length < 1 || !shape.every((n) => Number.isSafeInteger(n) && n >= 1))
    throw new InvalidArgument("decompose", "shape", `[${shape.join(", ")}]`, "must be one or more positive integers")
  const minimum = shape.map((_, d) => (typeof minimumBlock === "number" ? minimumBlock : (minimumBlock[d] ?? 1)))
  if (!minimum.every((m) => Number.isSafeInteger(m) && m >= 1))
    throw new InvalidArgument("decompose", "minimumBlock", typeof minimumBlock === "number" ? minimumBlock : `[${minimumBlock.join(", ")}]`, "must be positive integers")
  let best: number[] | undefined
  let bestKey: number[] = []
  for (const dims of factorizations(ranks, shape.length)) {
    const key = rankKey(dims, shape, minimum)
    if (best === undefined || keyLess(key, bestKey)) {
      best = dims
      bestKey = key
    }
  }
  return best!
}

/**
 * The order of layouts, smallest first: valid ones before invalid ones; valid
 * ones by halo surface; invalid ones by how far the thinnest block falls short;
 * then the most balanced (as computeDims), then more ranks along earlier
 * dimensions.
 */
function rankKey(dims: ReadonlyArray<number>, shape: ReadonlyArray<number>, minimum: ReadonlyArray<number>): number[] {
  let fit = Infinity // the thinnest block relative to its minimum; ≥ 1 when valid
  for (let d = 0; d < dims.length; d++) fit = Math.min(fit, Math.floor(shape[d]! / dims[d]!) / minimum[d]!)
  const valid = fit >= 1
  const balance = [...dims].sort((a, b) => b - a) // computeDims's order among equals: the smallest largest factor, then the next
  return [valid ? 0 : 1, valid ? haloSurface(dims, shape) : -fit, ...balance, ...dims.map((p) => -p)]
}

/** Points on the cuts between blocks: Σ_d (p_d − 1)·Π_{e≠d} n_e. */
function haloSurface(dims: ReadonlyArray<number>, shape: ReadonlyArray<number>): number {
  let surface = 0
  for (let d = 0; d < dims.length; d++) {
    let face = dims[d]! - 1
    for (let e = 0; e < dims.length; e++) if (e !== d) face *= shape[e]!
    surface += face
  }
  return surface
}

function keyLess(a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!
  return false
}

/** Every ordered factorization of n into k positive factors. */
function* factorizations(n: number, k: number): Generator<number[]> {
  if (k === 1) {
    yield [n]
    return
  }
  for (const first of divisors(n)) for (const rest of factorizations(n / first, k - 1)) yield [first, ...rest]
}

function divisors(n: number): number[] {
  const low: number[] = []
  const high: number[] = []
  for (let i = 1; i * i <= n; i++) {
    if (n % i !== 0) continue
    low.push(i)
    if (i !== n / i) high.unshift(n / i)
  }
  return [...low, ...high]
}
