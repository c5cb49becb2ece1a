// How long a deadlock takes to be reported: the wall time of a job that deadlocks (until
// runRanks rejects with DeadlockDetected) minus the median wall time of a job that returns at
// once (start-up and teardown), alternated so all see the same noise. The watcher's quiet
// period is --deadlock-after's default, 1 s: the goal is to report within a few polls of it
// (a deadlock still unreported at the job's 30 s limit is counted as such).
// One JSON line per case: the median and max latency over the reps. Then the other side: how
// often a correct program that is busy inside a blocking call (a 1.5 s user reduction run by a
// rank waiting in recv, 3 ranks) is stopped with a false DeadlockDetected (impl "false_reports").
//   node --import tsx bench/deadlock_report.ts [--reps 5] [--false-reps 8]
import { DeadlockDetected, JobTimeout, runRanks } from "rankflow"

const option = (name: string, fallback: number): number =>
  process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback
const reps = option("--reps", 5)
const falseReps = option("--false-reps", 8)
const module = new URL("./workloads/deadlocks.ts", import.meta.url)
const cases: ReadonlyArray<[string, number]> = [
  ["recvRecv", 2],
  ["ssendBoth", 2],
  ["collectiveVersusRecv", 3],
  ["collectiveVersusRecv", 8],
]

/** Seconds until the job ended (a deadlock: until it was reported); Infinity when it ran into its 30 s limit unreported. */
async function seconds(name: string, ranks: number): Promise<number> {
  const started = performance.now()
  try {
    await runRanks({ ranks, module, export: name, timeoutSeconds: 30 })
    if (name !== "none") throw new Error(`${name} on ${ranks} ranks returned`)
  } catch (error) {
    if (error instanceof JobTimeout) return Infinity
    if (!(error instanceof DeadlockDetected)) throw error
  }
  return (performance.now() - started) / 1000
}

await seconds("none", 8) // warm-up: the first job of a process also bundles the entry for the ranks
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
for (const [name, ranks] of reps > 0 ? cases : []) {
  const base: number[] = []
  const total: number[] = []
  for (let k = 0; k < reps; k++) {
    base.push(await seconds("none", ranks))
    total.push(await seconds(name, ranks))
  }
  const latency = total.filter(Number.isFinite).map((s) => s - median(base))
  console.log(
    JSON.stringify({
      workload: "deadlock_report",
      impl: name,
      ranks,
      params: { reps, quiet_s: 1 },
      result: {
        median_s: latency.length > 0 ? +median(latency).toFixed(3) : null,
        max_s: latency.length > 0 ? +Math.max(...latency).toFixed(3) : null,
        unreported_in_30_s: total.length - latency.length,
      },
      metrics: { startup_median_s: +median(base).toFixed(3) },
    }),
  )
}

let falseReports = 0
for (let k = 0; k < falseReps; k++) {
  try {
    await runRanks({ ranks: 3, module, export: "slowReduction", args: 1500, timeoutSeconds: 60 })
  } catch (error) {
    if (!(error instanceof DeadlockDetected)) throw error
    falseReports++
  }
}
console.log(JSON.stringify({ workload: "deadlock_report", impl: "false_reports", ranks: 3, params: { reps: falseReps, combine_ms: 1500 }, result: { false_reports: falseReports } }))
