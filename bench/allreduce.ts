// Collective benchmarks: allreduce of 1 double and of 1 Mi doubles, bcast of
// 8 MiB, on 2, 4 and 8 ranks, beside the single-thread copy of 8 MiB
// measured in the same run. One JSON line per result.
//   tsx bench/allreduce.ts [--quick] [--ranks 2,4,8]
// --quick (a smoke test, run by the test suite) takes 2 and 4 ranks and few
// repetitions: 8 ranks on 2 busy cores made 40 000 scalar allreduces take
// over a minute.
import { copyEngine } from "../src/transport/copy.ts"
import { type Comm, runRanks, SUM } from "rankflow"

const MiB = 1024 * 1024

/** Seconds per call of `op` (the slowest rank's), between barriers, after a warm-up long enough for the JIT (`warmup` calls, default `reps`). */
export function timeCalls(comm: Comm, reps: number, op: () => void, warmup = reps): number {
  // One loop for the warm-up and the timed calls: V8 compiles it (on-stack replacement) in the warm-up, not while timed.
  const repeat = (n: number): void => {
    for (let i = 0; i < n; i++) op()
  }
  repeat(warmup)
  comm.barrier()
  const t0 = comm.wtime()
  repeat(reps)
  const seconds = (comm.wtime() - t0) / reps
  return comm.allreduce(seconds, { concat: Math.max }) // the slowest rank's time
}

export function measure(comm: Comm, quick: boolean): Array<{ name: string; bytes: number; reps: number; seconds: number; check: number }> {
  const scalarReps = quick ? 2_000 : 100_000
  // The JIT needs ~10⁴ calls of a small collective before its figure means something, quick or not.
  const scalarWarmup = Math.max(scalarReps, 10_000)
  const bigReps = quick ? 3 : 40
  const out = []
  let scalar = 0
  out.push({ name: "allreduce_1_double", bytes: 8, reps: scalarReps, seconds: timeCalls(comm, scalarReps, () => (scalar = comm.allreduce(comm.rank + 1, SUM)), scalarWarmup), check: scalar })
  const vector = new Float64Array(MiB).fill(comm.rank + 1)
  let sum = new Float64Array(0)
  const result = new Float64Array(MiB)
  out.push({ name: "allreduce_1Mi_doubles", bytes: 8 * MiB, reps: bigReps, seconds: timeCalls(comm, bigReps, () => (sum = comm.allreduce(vector, SUM, result))), check: sum[MiB - 1]! })
  // In place (MPI_IN_PLACE): no copy of the input; values grow, which costs nothing extra.
  const inPlace = new Float64Array(MiB).fill(1 / 2 ** 40)
  out.push({ name: "allreduce_1Mi_doubles_in_place", bytes: 8 * MiB, reps: bigReps, seconds: timeCalls(comm, bigReps, () => comm.allreduce(inPlace, SUM, inPlace)), check: inPlace[0]! > 0 ? 1 : 0 })
  // Shared-memory windows (comm.alloc): the allreduce reads the other ranks' blocks in place.
  const windowIn = comm.alloc(Float64Array, MiB).fill(comm.rank + 1)
  const windowOut = comm.alloc(Float64Array, MiB)
  out.push({ name: "allreduce_1Mi_doubles_window", bytes: 8 * MiB, reps: bigReps, seconds: timeCalls(comm, bigReps, () => comm.allreduce(windowIn, SUM, windowOut)), check: windowOut[MiB - 1]! })
  const windowInPlace = comm.alloc(Float64Array, MiB).fill(1 / 2 ** 40)
  out.push({ name: "allreduce_1Mi_doubles_window_in_place", bytes: 8 * MiB, reps: bigReps, seconds: timeCalls(comm, bigReps, () => comm.allreduce(windowInPlace, SUM, windowInPlace)), check: windowInPlace[0]! > 0 ? 1 : 0 })
  const buffer = new Uint8Array(8 * MiB).fill(comm.rank === 0 ? 7 : 0)
  out.push({ name: "bcast_8MiB", bytes: 8 * MiB, reps: bigReps, seconds: timeCalls(comm, bigReps, () => comm.bcastInto(buffer, 0)), check: buffer[8 * MiB - 1]! })
  return out
}

function copySeconds(bytes: number, reps: number): number {
  const src = new Uint8Array(bytes).fill(1)
  const dst = new Uint8Array(bytes)
  for (let i = 0; i < 10; i++) dst.set(src)
  const t0 = performance.now()
  for (let i = 0; i < reps; i++) dst.set(src)
  return (performance.now() - t0) / 1000 / reps
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick")
  const only = process.argv.includes("--ranks") ? process.argv[process.argv.indexOf("--ranks") + 1]!.split(",").map(Number) : quick ? [2, 4] : [2, 4, 8]
  for (const ranks of only) {
    const [rows] = await runRanks<ReturnType<typeof measure>>({ ranks, module: import.meta.url, export: "measure", args: quick })
    const copy = copySeconds(8 * MiB, quick ? 20 : 200)
    for (const r of rows!) {
      console.log(
        JSON.stringify({
          workload: "allreduce",
          impl: "comm",
          ranks,
          params: { op: r.name, bytes: r.bytes, reps: r.reps, copy_engine: copyEngine },
          wall_s: r.seconds * r.reps,
          result: { check: r.check },
          metrics: {
            us_per_call: r.seconds * 1e6,
            copy_8MiB_us: copy * 1e6,
            ratio_to_8MiB_copy: r.seconds / copy,
          },
        }),
      )
    }
  }
}
