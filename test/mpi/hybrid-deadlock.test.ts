// Deadlock detection in hybrid MPI runs (2 processes × 2 rank threads: ranks 0, 1 in process 0,
// ranks 2, 3 in process 1): each process's supervisor reports a wait-for cycle among its own rank
// threads — even while other ranks keep running — and ends the whole job through MPI_Abort; local
// ranks waiting on a busy remote rank are never reported, and a cycle spanning two processes is
// left to --timeout (no process sees the other's waits).
import { execFileSync } from "node:child_process"
import test from "ava"
import { mpirun, requireMpirun } from "./mpirun.ts"

const PROGRAM = "test/fixtures/mpi/hybridDeadlocks.ts"
const HYBRID = ["--ranks-per-process", "2"]
/** A bound against hangs only (start-up of 2 processes × 2 threads under load takes seconds); the watcher's quiet period is 1 s. */
const BOUND_SECONDS = 60

/** This fixture's processes still alive, polled briefly after mpirun returned (none may be). */
async function leftovers(): Promise<string[]> {
  const alive = (): string[] => {
    try {
      return execFileSync("pgrep", ["-af", PROGRAM], { encoding: "utf8" }).split("\n").filter((l) => l.includes("node") && !l.includes("pgrep"))
    } catch {
      return [] // pgrep exits 1 when nothing matches
    }
  }
  for (let i = 0; i < 50 && alive().length > 0; i++) await new Promise((r) => setTimeout(r, 100))
  return alive()
}

test.serial("two rank threads of one process receiving from each other: DeadlockDetected names both and the cycle, the job exits 1, nothing left", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, [...HYBRID, "--timeout", "100", "--", "local-cycle"], 120_000)
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /^rankflow: deadlock: ranks 0, 1 wait on each other in a cycle that no other rank can break$/m)
  t.regex(run.stderr, /^ {2}rank 0 waits in recv for rank 1 \(tag 7\)$/m)
  t.regex(run.stderr, /^ {2}rank 1 waits in recv for rank 0 \(tag 7\)$/m)
  t.regex(run.stderr, /wait-for cycle: rank 0 → rank 1 → rank 0/)
  t.notRegex(run.stderr, /rank [23] waits in/, "ranks 2 and 3 kept exchanging: not reported")
  t.notRegex(run.stdout, /still exchanging after 60 s/, "the job ended before the busy ranks gave up")
  t.true(run.seconds < BOUND_SECONDS, `${run.seconds} s`)
  t.deepEqual(await leftovers(), [])
})

test.serial("a rank in a barrier of its process's ranks while its local peer receives from it: reported with the collective", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, [...HYBRID, "--timeout", "100", "--", "local-collective"], 120_000)
  t.is(run.code, 1, run.stderr)
  t.regex(run.stderr, /^rankflow: deadlock: ranks 0, 1 wait on each other/m)
  t.regex(run.stderr, /^ {2}rank 0 waits in barrier \(collective #\d+, root 0\) for rank 1$/m)
  t.regex(run.stderr, /^ {2}rank 1 waits in recv for rank 0 \(tag 7\)$/m)
  t.notRegex(run.stderr, /rank [23] waits in/, "ranks 2 and 3 wait on another process: not reported")
  t.true(run.seconds < BOUND_SECONDS, `${run.seconds} s`)
  t.deepEqual(await leftovers(), [])
})

test.serial("local ranks waiting 3 s on a busy rank of the other process are not reported: the job succeeds", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, [...HYBRID, "--timeout", "100", "--", "remote-wait"], 120_000)
  t.is(run.code, 0, run.stderr)
  t.notRegex(run.stderr, /deadlock/i)
  t.regex(run.stdout, /^rank 0 got late$/m, "rank 0 waited on rank 1, which waited on rank 2")
  t.regex(run.stdout, /^rank 3 got late$/m)
  for (const r of [0, 1, 2, 3]) t.regex(run.stdout, new RegExp(`^rank ${r} done$`, "m"))
})

test.serial("a collective's wait on a local rank whose nonblocking collective is in flight is not reported (2 processes × 3 threads): the job succeeds", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, ["--ranks-per-process", "3", "--timeout", "100", "--", "nonblocking-in-flight"], 120_000)
  t.is(run.code, 0, run.stderr)
  t.notRegex(run.stderr, /deadlock/i)
  t.regex(run.stdout, /^rank 0 got after the barrier$/m)
  for (const r of [0, 1, 2, 3, 4, 5]) t.regex(run.stdout, new RegExp(`^rank ${r} done$`, "m"))
})

test.serial("a cycle spanning two processes is not reported by the watcher: --timeout ends it (exit 124)", async (t) => {
  if (!requireMpirun(t)) return
  const run = await mpirun(2, PROGRAM, [...HYBRID, "--timeout", "8", "--", "cross-cycle"], 120_000)
  t.is(run.code, 124, run.stderr)
  t.regex(run.stderr, /exceeded its time limit of 8 s/)
  // Each process names its own ranks in the job's numbering: process 0 has ranks 0 and 1, process 1 ranks 2 and 3.
  for (const line of run.stderr.split("\n").filter((l) => l.includes("ranks still running")))
    t.regex(line, /ranks still running: (0, 1|2, 3)$/, line)
  t.notRegex(run.stderr, /deadlock/i)
  t.deepEqual(await leftovers(), [])
})
