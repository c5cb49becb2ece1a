// Streaming pipeline (the seed's design pattern 3): signals flow through
// three stages on their own ranks — synthesize, smooth, measure — all busy
// at once on different signals, and come back to rank 0 in order. Typed
// arrays travel between stages as raw bytes. The smoothing stage is the
// costly one: with ranks to spare it runs on two, taking signals in turns.
//   tsx examples/stream_pipeline.ts --ranks 5 [--signals 200 --length 32768]
import { initWithParams, Param, randomStream, Stream } from "rankflow"

const { comm, params } = await initWithParams({
  signals: Param.int(200, "signals to process", { min: 1 }),
  length: Param.int(32_768, "samples per signal", { min: 16 }),
})
const { signals, length } = params

/** Signal i: a sine of frequency i % 50 + 1 plus uniform noise from the signal's own random stream. */
function synthesize(i: number): Float64Array {
  const noise = randomStream(7, i)
  const x = new Float64Array(length)
  noise.fill(x)
  for (let k = 0; k < length; k++) x[k] = Math.sin((2 * Math.PI * ((i % 50) + 1) * k) / length) + (x[k]! - 0.5)
  return x
}

/** A centred moving average of 15 samples (fewer at the ends). */
function smooth(x: Float64Array): Float64Array {
  const w = 7
  const y = new Float64Array(x.length)
  for (let k = 0; k < x.length; k++) {
    let sum = 0
    const from = Math.max(0, k - w)
    const to = Math.min(x.length - 1, k + w)
    for (let j = from; j <= to; j++) sum += x[j]!
    y[k] = sum / (to - from + 1)
  }
  return y
}

/** Root-mean-square of a signal: the sine's 1/√2 once the noise is smoothed away. */
const rms = (y: Float64Array): number => Math.sqrt(y.reduce((s, v) => s + v * v, 0) / y.length)

const pipeline = Stream.from(() => Array.from({ length: signals }, (_, i) => i))
  .map(synthesize)
  .map(smooth, { ranks: 2 })
  .map(rms)
const { groups } = pipeline.layout(comm.size)
if (comm.rank === 0) console.log(groups.length === 0 ? "every stage on rank 0" : groups.map((g) => `${g.stages.join(" + ")} on rank ${g.ranks.join(", ")}`).join("; "))
const t0 = comm.wtime()
const levels = pipeline.run(comm)
if (levels) {
  const mean = levels.reduce((a, b) => a + b, 0) / levels.length
  console.log(`${levels.length} signals, mean rms ${mean.toFixed(4)} (a pure sine: ${Math.SQRT1_2.toFixed(4)}), ${(comm.wtime() - t0).toFixed(3)} s`)
}
