/**
 * Balanced Cartesian layouts (MPI_Dims_create). Pure.
 *
 * Layer: comm (pure, no I/O).
 */
import { InvalidArgument } from "../errors.ts"

/**
 * Splits `size` ranks into an `ndims`-dimensional grid as square as possible,
 * dimensions in non-increasing order. Entries of `fixed` greater than zero are
 * kept as given (like MPI_Dims_create's non-zero entries).
 *
 * @example
 * ```ts
 * import { computeDims } from "rankflow"
 * console.log(computeDims(12, 2), computeDims(8, 3), computeDims(7, 2)) // [4, 3] [2, 2, 2] [7, 1]
 * ```
 */
export function computeDims(size: number, ndims: number, fixed: ReadonlyArray<number> = []): number[] {
  if (!Number.isInteger(size) || size < 1) throw new InvalidArgument("computeDims", "size", size, "must be a positive integer")
  if (!Number.isInteger(ndims) || ndims < 1) throw new InvalidArgument("computeDims", "ndims", ndims, "must be a positive integer")
  const dims = Array.from({ length: ndims }, (_, i) => fixed[i] ?? 0)
  const given = dims.filter((d) => d > 0).reduce((a, b) => a * b, 1)
  if (size % given !== 0)
    throw new InvalidArgument("computeDims", "fixed", `[${fixed.join(", ")}]`, `does not divide ${size}`)
  const free = dims.flatMap((d, i) => (d > 0 ? [] : [i]))
  if (free.length === 0) {
    if (given !== size) throw new InvalidArgument("computeDims", "fixed", `[${fixed.join(", ")}]`, `multiplies to ${given}, not ${size}`)
    return dims
  }
  const sizes = mostBalanced(size / given, free.length)
  free.forEach((d, i) => (dims[d] = sizes[i]!))
  return dims
}

/**
 * The factorization of n into k factors, non-increasing, whose largest factor
 * is smallest (then the next, …): exhaustive over divisors, cheap for any
 * rank count a machine has.
 */
function mostBalanced(n: number, k: number): number[] {
  if (k === 1) return [n]
  let best: number[] | undefined
  // The largest factor is at least ⌈n^(1/k)⌉; try candidates upwards, keep the lexicographically smallest.
  for (let first = Math.ceil(Math.pow(n, 1 / k) - 1e-9); first <= n; first++) {
    if (n % first !== 0) continue
    const rest = mostBalanced(n / first, k - 1)
    if (rest[0]! > first) continue
    const candidate = [first, ...rest]
    if (best === undefined || lexLess(candidate, best)) best = candidate
    if (best[0] === first) break // larger first factors can only be worse
  }
  return best ?? [n, ...Array<number>(k - 1).fill(1)]
}

function lexLess(a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!
  return false
}
