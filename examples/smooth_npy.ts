// A numpy user's round trip: read a 2-D .npy array in parallel (each rank
// reads its block only), smooth it with k passes of a 5-point average, and
// write the result as a .npy file (each rank writes its block), which
// numpy.load reads back. The element type follows the file (float64, float32, int32 or uint8).
//   tsx examples/smooth_npy.ts --ranks 4 --input image.npy --output smooth.npy [--passes 10]
import { Grid, Param, Pipeline, readNpyHeader } from "rankflow"

export const smooth = Pipeline.program({
  name: "smooth_npy",
  description: "k passes of a 5-point average over a 2-D .npy array, written back as .npy",
  params: { input: Param.string("image.npy", "a 2-D .npy file"), output: Param.string("smooth.npy", "where to write the result"), passes: Param.int(10, "passes", { min: 1 }) },
  build: ({ input, output, passes }) => {
    const { shape, type } = readNpyHeader(input)
    const [rows, cols] = shape as [number, number]
    return Pipeline.distribute(Grid.plane({ n: [rows, cols], boundary: Grid.neumann }), Pipeline.fromFile(input), { type })
      .iterate(passes, (s) => s.haloExchange().stencil((u, i, row) => (u[i - row]! + u[i - 1]! + 4 * u[i]! + u[i + 1]! + u[i + row]!) / 8))
      .save(output)
  },
})

await Pipeline.main(smooth)
