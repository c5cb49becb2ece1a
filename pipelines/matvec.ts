// y = A·x for the n × n matrix A_ij = 1/(i + j + 1) and x_j = 1: each chunk of
// rows is built in the dense kernels' memory (Dense.alloc, so nothing is
// copied) and multiplied with the WebAssembly SIMD dgemv; the rows of y are
// gathered in order. Checked against a serial product on rank 0.
//   tsx pipelines/matvec.ts --ranks 3 [--n 1000]
import { Dense, Param, Pipeline, Range } from "rankflow"

const entry = (i: number, j: number): number => 1 / (i + j + 1)

export const matvec = Pipeline.program({
  name: "matvec",
  description: "y = A·x for A_ij = 1/(i + j + 1), rows in chunks multiplied with the WebAssembly dgemv (Dense.dgemv), checked against a serial product",
  params: { n: Param.int(1000, "matrix size", { min: 1 }) },
  build: ({ n }) => {
    const x = new Float64Array(n).fill(1)
    return Pipeline.distribute(Range.of(n, { chunk: 64 }))
      .mapLocal(({ start, end }) => {
        const a = rows(start, end, n)
        const y = Dense.dgemv(a, x, new Float64Array(end - start), end - start, n)
        Dense.free(a)
        return y
      })
      .gather()
      .map((parts) => {
        const y = new Float64Array(n)
        let at = 0
        for (const part of parts) y.set(part, (at += part.length) - part.length)
        return y
      })
  },
  report: (y, { n }) => {
    let worst = 0
    for (let i = 0; i < n; i++) {
      let exact = 0
      for (let j = 0; j < n; j++) exact += entry(i, j)
      worst = Math.max(worst, Math.abs(y[i]! - exact) / exact)
    }
    return { "max relative error vs serial": worst }
  },
})

/** Rows [start, end) of A, built in the kernels' memory. */
function rows(start: number, end: number, n: number): Float64Array {
  const a = Dense.alloc((end - start) * n)
  for (let i = start; i < end; i++) for (let j = 0; j < n; j++) a[(i - start) * n + j] = entry(i, j)
  return a
}

await Pipeline.main(matvec)
