// Signals sent to a running program: SIGINT exits 130, SIGTERM 143 (128 + the signal's number), and a
// Ctrl-C relayed twice (npx and tsx relay it again 80–190 ms later) still prints "interrupted".
import { spawn } from "node:child_process"
import test from "ava"
import { ROOT } from "../helpers.ts"

interface Stopped {
  readonly code: number | null
  readonly stderr: string
  /** Seconds from the first signal to the exit. */
  readonly seconds: number
}

/** Starts the blocked fixture on 2 ranks, sends `signals` (each after its delay in ms from the previous), waits for the exit. */
async function interrupt(signals: ReadonlyArray<readonly [NodeJS.Signals, number]>): Promise<Stopped> {
  const child = spawn(process.execPath, ["--import=tsx", "test/fixtures/sleepy.ts", "--ranks", "2", "--deadlock-after", "0"], { cwd: ROOT })
  let stderr = ""
  child.stderr.on("data", (d: Buffer) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)))
  await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => String(d).includes("ready") && resolve()))
  const t0 = performance.now()
  for (const [signal, delay] of signals) {
    await new Promise((resolve) => setTimeout(resolve, delay))
    child.kill(signal)
  }
  const code = await Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))])
  if (code === null) child.kill("SIGKILL")
  return { code, stderr, seconds: (performance.now() - t0) / 1000 }
}

test.serial("SIGTERM stops every rank and exits 143", async (t) => {
  const run = await interrupt([["SIGTERM", 0]])
  t.is(run.code, 143, run.stderr)
  t.regex(run.stderr, /^rankflow: interrupted by SIGTERM; all ranks stopped$/m)
  t.true(run.seconds < 10, `${run.seconds} s`) // a bound against hangs, not a speed test
})

test.serial("SIGINT stops every rank and exits 130", async (t) => {
  const run = await interrupt([["SIGINT", 0]])
  t.is(run.code, 130, run.stderr)
  t.regex(run.stderr, /^rankflow: interrupted by SIGINT; all ranks stopped$/m)
})

test.serial("a Ctrl-C relayed twice, 80 to 190 ms apart, never loses the interrupted message", async (t) => {
  // With process.once, the second signal met Node's default action: a silent exit, about half the time.
  for (const gap of [0, 80, 130, 190]) {
    const run = await interrupt([["SIGINT", 0], ["SIGINT", gap]])
    t.is(run.code, 130, `gap ${gap} ms: ${run.stderr}`)
    t.regex(run.stderr, /^rankflow: interrupted by SIGINT; all ranks stopped$/m, `gap ${gap} ms`)
  }
})
