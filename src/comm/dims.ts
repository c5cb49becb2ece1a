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
  // Prime factors, largest first, each given to the currently smallest free dimension.
  const factors: number[] = []
  let rest = size / given
  for (let p = 2; p * p <= rest; p++) while (rest % p === 0) (factors.push(p), (rest /= p))
  if (rest > 1) factors.push(rest)
  factors.sort((a, b) => b - a)
  const sizes = free.map(() => 1)
  for (const f of factors) {
    let smallest = 0
    for (let i = 1; i < sizes.length; i++) if (sizes[i]! < sizes[smallest]!) smallest = i
    sizes[smallest]! *= f
  }
  sizes.sort((a, b) => b - a)
  free.forEach((d, i) => (dims[d] = sizes[i]!))
  return dims
}
