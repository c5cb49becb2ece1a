// pi_mc: Monte Carlo π from 100,000,000 points of [0, 1)². The samples are cut
// into fixed chunks of 2^20, and chunk c draws its numbers from
// `randomStream(seed, c)` (src/pipeline/random.ts), whichever rank runs it:
// the estimate is the same, to the last digit, in serial and on every rank
// count.
//
// The counting kernel lives here, shared by every implementation
// (pi_mc.serial.ts, pi_mc.comm.ts).
import { randomEngineName, randomStream } from "../../src/pipeline/random.ts"
import { pipelineThreads, type Workload } from "./harness.ts"

export interface PiParams {
  readonly samples: number
  readonly seed: number
  readonly chunk: number
  readonly rng: string
}

export interface PiResult {
  readonly pi: number
  readonly abs_err: number
  readonly sigma: number
  readonly inside: number
}

/** Doubles per `fill`: 2048 points, a whole block of the generator's kernel. */
const FILL = 4096

/** How many chunks the samples make (the last may be partial). */
export const chunkCount = (p: PiParams): number => Math.ceil(p.samples / p.chunk)

/**
 * A counter of the points inside the quarter circle in chunks [firstChunk,
 * endChunk), with its generator and buffer allocated once. Each chunk
 * restarts the generator as stream (seed, chunk) and draws its points in
 * blocks of FILL numbers; the count is branchless (a data-dependent branch
 * mispredicts on a random test).
 */
export function insideCounter(p: PiParams): (firstChunk: number, endChunk: number) => number {
  const rng = randomStream(p.seed, 0)
  const buffer = new Float64Array(FILL)
  return (firstChunk, endChunk) => {
    let inside = 0
    for (let c = firstChunk; c < endChunk; c++) {
      rng.reset(p.seed, c)
      let left = 2 * Math.min(p.chunk, p.samples - c * p.chunk) // numbers this chunk draws
      while (left > 0) {
        const n = Math.min(FILL, left)
        rng.fill(buffer, 0, n)
        for (let i = 0; i < n; i += 2) inside += +(buffer[i]! * buffer[i]! + buffer[i + 1]! * buffer[i + 1]! <= 1)
        left -= n
      }
    }
    return inside
  }
}

/** The result from the total count: π̂ = 4·inside/samples and its standard error 4·√(p(1−p)/n), p = π/4. */
export function piResult(p: PiParams, inside: number): PiResult {
  const pi = (4 * inside) / p.samples
  const quarter = Math.PI / 4
  return { pi, abs_err: Math.abs(pi - Math.PI), sigma: 4 * Math.sqrt((quarter * (1 - quarter)) / p.samples), inside }
}

export const piMc: Workload<PiParams, PiResult> = {
  name: "pi_mc",
  params: (quick) => ({
    samples: quick ? 3_000_000 : 100_000_000,
    seed: 2024,
    chunk: 2 ** 20,
    rng: `randomStream(seed, chunk) of src/pipeline/random.ts, ${randomEngineName()} engine`,
  }),
  impls: {
    "serial-js": { runner: "main", module: new URL("./pi_mc.serial.ts", import.meta.url) },
    "serial-c": { runner: "external", module: new URL("./pi_mc.serialc.ts", import.meta.url), comparable: false },
    comm: { runner: "ranks", module: new URL("./pi_mc.comm.ts", import.meta.url) },
    pipeline: { runner: "ranks", module: new URL("./pi_mc.pipeline.ts", import.meta.url), threads: pipelineThreads },
  },
  metrics: (p, seconds) => ({ Msamples_per_s: p.samples / seconds / 1e6 }),
  check: (_, result) => (result.abs_err < 6 * result.sigma ? [] : [`|π̂ − π| = ${result.abs_err} is over 6σ (σ = ${result.sigma})`]),
  identical: ["inside"],
}
