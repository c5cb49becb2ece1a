// The Mandelbrot set on [−2, 1] × [−1.5, 1.5]: escape counts per pixel. Rows
// cost very different amounts, so they are dealt to ranks cyclically (row k to
// rank k mod size) to balance the load — or, with --distribution dynamic, taken
// by whichever rank is free; the rows are gathered in order. --out set.png (or
// .svg) draws the escape counts as a heat map over the complex plane; .pgm
// writes the bare grey image.
//   tsx pipelines/mandelbrot.ts --ranks 4 [--width 800 --height 600 --iterations 256 --distribution cyclic --out set.png]
import { writeFileSync } from "node:fs"
import { fingerprint, Param, Pipeline, Range, writePlot } from "rankflow"

export const mandelbrot = Pipeline.program({
  name: "mandelbrot",
  description: "escape counts of the Mandelbrot set on [−2, 1] × [−1.5, 1.5], rows gathered in order",
  params: {
    width: Param.int(800, "pixels per row", { min: 1 }),
    height: Param.int(600, "rows", { min: 1 }),
    iterations: Param.int(256, "iteration limit", { min: 1, max: 65535 }),
    out: Param.string("", "write the image: a heat map with axes (.png, .svg) or a grey PGM (.pgm)"),
    distribution: Param.choice(["block", "cyclic", "dynamic"], "cyclic", "how rows go to ranks"),
  },
  build: ({ width, height, iterations, distribution }) =>
    Pipeline.distribute(Range.of(height, { chunk: 1 }), { distribution })
      .mapLocal(({ start: row }) => {
        const counts = new Uint16Array(width)
        const ci = -1.5 + (3 * row) / height
        for (let col = 0; col < width; col++) {
          const cr = -2 + (3 * col) / width
          let zr = 0
          let zi = 0
          let k = 0
          while (k < iterations && zr * zr + zi * zi <= 4) {
            const t = zr * zr - zi * zi + cr
            zi = 2 * zr * zi + ci
            zr = t
            k++
          }
          counts[col] = k
        }
        return counts
      })
      .gather(),
  report: (rows, { width, height, iterations, out }) => {
    const image = new Uint16Array(width * height)
    rows.forEach((row, k) => image.set(row, k * width))
    if (/\.(png|svg)$/i.test(out)) {
      // Real part across, imaginary part up: the first plotted dimension is the column.
      const across = new Uint16Array(width * height)
      for (let row = 0; row < height; row++) for (let col = 0; col < width; col++) across[col * height + row] = image[row * width + col]!
      writePlot(out, across, { shape: [width, height], origin: [-2, -1.5], spacing: [3 / width, 3 / height] }, { title: `Mandelbrot set, ${iterations} iterations`, labels: { x: "Re c", y: "Im c", value: "escape count" } })
    } else if (out !== "") writeFileSync(out, Buffer.concat([Buffer.from(`P5 ${width} ${height} 255\n`), Buffer.from(image.map((c) => (c >= iterations ? 0 : 255 - (c % 256))))]))
    let inside = 0
    for (const c of image) if (c >= iterations) inside++
    return { "pixels in the set": inside, "image fingerprint": fingerprint(image), ...(out === "" ? {} : { written: out }) }
  },
})

await Pipeline.main(mandelbrot)
