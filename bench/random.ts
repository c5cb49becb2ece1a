// Random-stream benchmark, one thread: uniforms per second and Monte Carlo π
// samples per second (2 uniforms per sample) for Math.random, a plain
// xorshift128 loop (the DESIGN.md baseline), and RandomStream's next() and
// fill() (WebAssembly SIMD engine, then the plain-JS engine), all in one run.
// One JSON line per result.
//   tsx bench/random.ts [--quick]
import { RandomStream, randomEngineName, randomStream, setRandomEngine } from "../src/pipeline/random.ts"

const quick = process.argv.includes("--quick")
const UNIFORMS = quick ? 2_000_000 : 200_000_000
const SAMPLES = quick ? 1_000_000 : 100_000_000
const BUF = 4096 // doubles per fill: 2048 samples
const SEED = 2024

const now = (): number => performance.now() / 1000

interface Phase {
  readonly seconds: number
  readonly value: number
}

function timed(run: () => number): Phase {
  const t0 = now()
  const value = run()
  return { seconds: now() - t0, value }
}

// --- Math.random ---------------------------------------------------------------
function mathRandomUniforms(n: number): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum += Math.random()
  return sum / n
}
function mathRandomPi(samples: number): number {
  let hits = 0
  for (let i = 0; i < samples; i++) {
    const x = Math.random(), y = Math.random()
    if (x * x + y * y <= 1) hits++
  }
  return (4 * hits) / samples
}

// --- xorshift128 (Marsaglia), inlined: the plain-JS baseline -------------------
const U32 = 2 ** -32
function xorshiftUniforms(n: number): number {
  let x = 123456789, y = 362436069, z = 521288629, w = SEED
  let sum = 0
  for (let i = 0; i < n; i++) {
    const t = x ^ (x << 11)
    x = y; y = z; z = w
    w = w ^ (w >>> 19) ^ t ^ (t >>> 8)
    sum += (w >>> 0) * U32
  }
  return sum / n
}
function xorshiftPi(samples: number): number {
  let x = 123456789, y = 362436069, z = 521288629, w = SEED
  let hits = 0
  for (let i = 0; i < samples; i++) {
    let t = x ^ (x << 11)
    x = y; y = z; z = w
    w = w ^ (w >>> 19) ^ t ^ (t >>> 8)
    const a = (w >>> 0) * U32
    t = x ^ (x << 11)
    x = y; y = z; z = w
    w = w ^ (w >>> 19) ^ t ^ (t >>> 8)
    const b = (w >>> 0) * U32
    if (a * a + b * b <= 1) hits++
  }
  return (4 * hits) / samples
}

// --- RandomStream.next() ------------------------------------------------------
function nextUniforms(rng: RandomStream, n: number): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum += rng.next()
  return sum / n
}
function nextPi(rng: RandomStream, samples: number): number {
  let hits = 0
  for (let i = 0; i < samples; i++) {
    const x = rng.next(), y = rng.next()
    if (x * x + y * y <= 1) hits++
  }
  return (4 * hits) / samples
}

// --- RandomStream.fill() over a reused buffer ---------------------------------
const buf = new Float64Array(BUF)
function fillUniforms(rng: RandomStream, n: number): number {
  let sum = 0, count = 0
  for (let done = 0; done < n; done += BUF, count++) sum += rng.fill(buf, 0, Math.min(BUF, n - done))[count & 7]!
  return sum / count // the mean of a few values per block
}
/** The user's loop as in the docs: a branch per sample. */
function fillPi(rng: RandomStream, samples: number): number {
  let hits = 0
  for (let done = 0; done < samples; done += BUF / 2) {
    const m = Math.min(BUF, 2 * (samples - done))
    rng.fill(buf, 0, m)
    for (let i = 0; i < m; i += 2) {
      const x = buf[i]!, y = buf[i + 1]!
      if (x * x + y * y <= 1) hits++
    }
  }
  return (4 * hits) / samples
}
/** The same without a data-dependent branch (random hits mispredict ~20% of the time). */
function fillPiBranchless(rng: RandomStream, samples: number): number {
  let hits = 0
  for (let done = 0; done < samples; done += BUF / 2) {
    const m = Math.min(BUF, 2 * (samples - done))
    rng.fill(buf, 0, m)
    let h = 0
    for (let i = 0; i < m; i += 2) {
      const x = buf[i]!, y = buf[i + 1]!
      h += +(x * x + y * y <= 1)
    }
    hits += h
  }
  return (4 * hits) / samples
}

interface Impl {
  readonly impl: string
  readonly engine: string
  readonly uniforms: (n: number) => number
  readonly pi: (samples: number) => number
}

function measure({ impl, engine, uniforms, pi }: Impl): void {
  uniforms(Math.min(UNIFORMS, 2_000_000)) // warm-up for the JIT
  pi(Math.min(SAMPLES, 1_000_000))
  const u = timed(() => uniforms(UNIFORMS))
  const p = timed(() => pi(SAMPLES))
  console.log(
    JSON.stringify({
      workload: "random",
      impl,
      ranks: 1,
      params: { uniforms: UNIFORMS, samples: SAMPLES, buffer: impl.includes("fill") ? BUF : 0, engine },
      wall_s: u.seconds + p.seconds,
      result: { uniform_mean: u.value, pi: p.value, pi_error: Math.abs(p.value - Math.PI) },
      metrics: { uniforms_per_s: UNIFORMS / u.seconds, pi_samples_per_s: SAMPLES / p.seconds },
    }),
  )
}

function streamImpls(): Impl[] {
  const engine = randomEngineName()
  const rng = randomStream(SEED, 0)
  const reset = (): RandomStream => rng.reset(SEED, 0)
  const tag = engine === "js" ? "/js" : ""
  return [
    { impl: `randomStream.next${tag}`, engine, uniforms: (n) => nextUniforms(reset(), n), pi: (s) => nextPi(reset(), s) },
    { impl: `randomStream.fill${tag}`, engine, uniforms: (n) => fillUniforms(reset(), n), pi: (s) => fillPi(reset(), s) },
    { impl: `randomStream.fill_branchless${tag}`, engine, uniforms: (n) => fillUniforms(reset(), n), pi: (s) => fillPiBranchless(reset(), s) },
  ]
}

measure({ impl: "Math.random", engine: "v8", uniforms: mathRandomUniforms, pi: mathRandomPi })
measure({ impl: "xorshift128_js_loop", engine: "js", uniforms: xorshiftUniforms, pi: xorshiftPi })
if (setRandomEngine("wasm-simd")) for (const impl of streamImpls()) measure(impl)
setRandomEngine("js")
for (const impl of streamImpls()) measure(impl)
