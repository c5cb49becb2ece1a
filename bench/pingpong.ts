// Ping-pong between 2 ranks: one-way latency and bandwidth of the buffer path
// (typed arrays, recvInto) and the serialized path (an object holding the
// bytes), beside the single-thread TypedArray.prototype.set copy bandwidth
// measured in the same run. One JSON line per result on stdout.
//   tsx bench/pingpong.ts [--quick]
import { copyEngine } from "../src/transport/copy.ts"
import { type Comm, runRanks } from "rankflow"

const KiB = 1024
const MiB = 1024 * KiB
const SIZES = [8, KiB, MiB, 8 * MiB, 64 * MiB, 100_000_000] // issue 6: up to 100 MB

/** Round trips for a message of `bytes`: enough to last ~0.2 s (quick: ~0.05 s), at least 3. */
const tripsFor = (bytes: number, quick: boolean): number =>
  Math.max(3, Math.min(quick ? 10_000 : 100_000, Math.floor((quick ? 1e8 : 4e8) / Math.max(bytes, 2048))))

/**
 * Untimed round trips before the timed ones. Small messages need ~10⁴ for
 * the JIT to optimise the send/receive path: with the 100 of a large
 * message's warm-up, --quick measured 5.9–14.5 µs for 8 bytes (1.8 µs warm).
 * A full run's small messages get up to 10⁵: after 2·10⁴, V8 was still
 * compiling paths taken now and then (a reply already there when the
 * receive starts) during the timed loop, on background threads that share
 * the rank's core when the job is bound to cores (mpirun's default):
 * 4–18 ms of a 0.2 s measurement.
 */
const warmupFor = (bytes: number, trips: number): number => (bytes <= 64 * KiB ? Math.max(10_000, Math.min(trips, 100_000)) : Math.min(trips, 100))

/** Seconds per one-way message, measured by rank 0 (rank 1 echoes). */
export function pingpong(comm: Comm, bytes: number, trips: number, serialized: boolean): number {
  const peer = 1 - comm.rank
  const buffer = new Uint8Array(bytes).fill(comm.rank + 1)
  const message = serialized ? { blob: buffer } : buffer
  const once = (): void => {
    if (comm.rank === 0) {
      comm.send(message, peer, 1)
      if (serialized) comm.recv(peer, 1)
      else comm.recvInto(buffer, peer, 1)
    } else {
      if (serialized) comm.recv(peer, 1)
      else comm.recvInto(buffer, peer, 1)
      comm.send(message, peer, 1)
    }
  }
  // One loop for the warm-up and the timed trips: V8 compiles it (on-stack replacement) in the warm-up, not while timed.
  const repeat = (n: number): void => {
    for (let i = 0; i < n; i++) once()
  }
  repeat(warmupFor(bytes, trips))
  comm.barrier()
  const t0 = comm.wtime()
  repeat(trips)
  return (comm.wtime() - t0) / (2 * trips)
}

/** Rank function: every size and path; returns rank 0's timings. */
export function measure(comm: Comm, quick: boolean): Array<{ bytes: number; path: string; trips: number; seconds: number }> {
  const out = []
  for (const bytes of quick ? SIZES.slice(0, 4) : SIZES) {
    for (const path of ["buffer", "serialized"]) {
      const trips = tripsFor(bytes, quick)
      out.push({ bytes, path, trips, seconds: pingpong(comm, bytes, trips, path === "serialized") })
    }
  }
  return out
}

/** Single-thread copy bandwidth (bytes/s) of `bytes` with TypedArray.prototype.set. */
function copyBandwidth(bytes: number, quick: boolean): number {
  const src = new Uint8Array(bytes).fill(1)
  const dst = new Uint8Array(bytes)
  const reps = tripsFor(bytes, quick)
  for (let i = 0; i < Math.min(reps, 100); i++) dst.set(src)
  const t0 = performance.now()
  for (let i = 0; i < reps; i++) dst.set(src)
  return (bytes * reps) / ((performance.now() - t0) / 1000)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick")
  const [timings] = await runRanks<ReturnType<typeof measure>>({ ranks: 2, module: import.meta.url, export: "measure", args: quick })
  const copy = new Map<number, number>()
  for (const t of timings!) {
    if (!copy.has(t.bytes)) copy.set(t.bytes, copyBandwidth(t.bytes, quick))
    const bandwidth = t.bytes / t.seconds
    console.log(
      JSON.stringify({
        workload: "pingpong",
        impl: t.path,
        ranks: 2,
        params: { bytes: t.bytes, trips: t.trips, copy_engine: copyEngine },
        wall_s: t.seconds * 2 * t.trips,
        result: { bytes: t.bytes },
        metrics: {
          one_way_us: t.seconds * 1e6,
          bandwidth_GBps: bandwidth / 1e9,
          copy_GBps: copy.get(t.bytes)! / 1e9,
          ratio_to_copy: bandwidth / copy.get(t.bytes)!,
        },
      }),
    )
  }
}
