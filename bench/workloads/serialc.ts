// The serial-c implementations: bench/c/serial.c, compiled by the bench with
// `gcc -O3 -march=native -ffp-contract=off` into a cache directory under the
// OS temp dir (keyed by the source's and flags' hash; never committed), run
// once per workload in a child process that times its own repetitions. The
// TypeScript side writes the inputs (initial fields, matrices) as raw float64
// files and reads the outputs back, so checks and fingerprints are computed by
// the same code as for every other implementation. Without gcc the impl is
// skipped with a note on stderr.
//
// -ffp-contract=off: gcc would otherwise fuse a·b + c into one FMA (GNU C's
// default), changing the last bits; with it the C kernels, which keep the
// TypeScript loops' operation order, give bit-identical fields and products.
//
// Main side only.
import { execFileSync, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Timings } from "./kernel.ts"
import type { RankOutcome } from "./rank.ts"

const SOURCE = fileURLToPath(new URL("../c/serial.c", import.meta.url))
export const C_FLAGS = ["-O3", "-march=native", "-ffp-contract=off"] as const

/** What an external implementation's `measure` returns: its outcome, or why it was skipped. */
export type ExternalOutcome<R> = RankOutcome<R> | { readonly skipped: string }

/** The `measure` an external implementation module exports. */
export type ExternalMeasure<P, R> = (params: P, reps: number) => ExternalOutcome<R> | Promise<ExternalOutcome<R>>

let built: { binary: string } | { skipped: string } | undefined

/** The compiled binary (built once per source and flags), or why there is none. */
export function serialBinary(): { binary: string } | { skipped: string } {
  if (built !== undefined) return built
  const gcc = process.env.CC ?? "gcc"
  let version: string
  try {
    version = execFileSync(gcc, ["--version"], { encoding: "utf8" }).split("\n")[0]!
  } catch {
    return (built = { skipped: `${gcc} not found (set CC to a C compiler to measure serial C)` })
  }
  const source = readFileSync(SOURCE)
  const key = createHash("sha256").update(source).update(C_FLAGS.join(" ")).update(version).digest("hex").slice(0, 16)
  const dir = join(tmpdir(), "rankflow-bench-c")
  const binary = join(dir, `serial-${key}`)
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true })
    const partial = `${binary}.${process.pid}`
    const run = spawnSync(gcc, [...C_FLAGS, "-o", partial, SOURCE, "-lm"], { encoding: "utf8" })
    if (run.status !== 0) return (built = { skipped: `${gcc} failed on bench/c/serial.c: ${run.stderr.trim().split("\n")[0]}` })
    renameSync(partial, binary)
  }
  return (built = { binary })
}

/** The C program's answer: its timings, scalar results, and the output files' doubles. */
export interface SerialRun {
  readonly timings: Timings
  readonly scalars: Record<string, number>
  readonly outputs: Float64Array[]
}

/**
 * Runs `serial WORKLOAD REPS ARGS...` with `inputs` written to files (their
 * paths appended to ARGS, then one path per output, of `outputLengths` doubles).
 */
export function runSerial(
  workload: string,
  reps: number,
  args: ReadonlyArray<string | number>,
  inputs: ReadonlyArray<Float64Array>,
  outputLengths: ReadonlyArray<number>,
): SerialRun | { skipped: string } {
  const program = serialBinary()
  if ("skipped" in program) return program
  const dir = mkdtempSync(join(tmpdir(), "rankflow-serial-c-"))
  try {
    const inPaths = inputs.map((values, i) => {
      const path = join(dir, `in${i}.f64`)
      writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
      return path
    })
    const outPaths = outputLengths.map((_, i) => join(dir, `out${i}.f64`))
    const run = spawnSync(program.binary, [workload, String(reps), ...args.map(String), ...inPaths, ...outPaths], { encoding: "utf8", maxBuffer: 1 << 20 })
    if (run.status !== 0) throw new Error(`serial-c ${workload} failed (exit ${run.status}): ${run.stderr}`)
    const answer = JSON.parse(run.stdout) as { wall: number[]; phases: Record<string, number[]>; scalars: Record<string, number> }
    const outputs = outPaths.map((path, i) => {
      const bytes = readFileSync(path)
      const values = new Float64Array(outputLengths[i]!)
      new Uint8Array(values.buffer).set(bytes.subarray(0, values.byteLength))
      return values
    })
    return { timings: { wall: answer.wall, phases: answer.phases }, scalars: answer.scalars, outputs }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
