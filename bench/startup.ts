// Whole-process start-up: `tsx examples/hello.ts --ranks N` from spawn to exit,
// for N = 1, 2, 4, 8 (3 runs each; min and median). One JSON line per N.
//   tsx bench/startup.ts [--quick] [--ranks 1,2,4,8] [--compare]
// impl "comm" is the default path: ranks import the entry bundled to plain JS
// (cached; one untimed run first warms the cache), and metrics.cold_s is one
// run that builds the bundle into an empty cache. --compare adds impl
// "comm-tsx" (RANKFLOW_BUNDLE=0: every rank registers tsx and compiles the
// sources), its runs interleaved with the others so both see the same noise.
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const quick = process.argv.includes("--quick")
const ranksArg = process.argv.indexOf("--ranks")
const rankCounts = ranksArg > 0 ? process.argv[ranksArg + 1]!.split(",").map(Number) : quick ? [1, 2] : [1, 2, 4, 8]
const reps = quick ? 1 : 3
const impls: Record<string, NodeJS.ProcessEnv> = {
  comm: {},
  ...(process.argv.includes("--compare") ? { "comm-tsx": { RANKFLOW_BUNDLE: "0" } } : {}),
}

/** Seconds for one run of the program on `ranks` ranks. */
function run(ranks: number, env: NodeJS.ProcessEnv): number {
  const t0 = performance.now()
  execFileSync(process.execPath, ["--import=tsx", "examples/hello.ts", "--ranks", String(ranks)], {
    cwd: root,
    stdio: "ignore",
    env: { ...process.env, ...env },
  })
  return (performance.now() - t0) / 1000
}

/** One run with an empty bundle cache: what the first run after an edit costs. */
function cold(ranks: number): number {
  const cache = mkdtempSync(join(tmpdir(), "rankflow-startup-cache-"))
  try {
    return run(ranks, { RANKFLOW_CACHE_DIR: cache })
  } finally {
    rmSync(cache, { recursive: true, force: true })
  }
}

run(1, {}) // warms the bundle cache (and the OS file cache)
for (const ranks of rankCounts) {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(impls).map((impl) => [impl, []]))
  for (let i = 0; i < reps; i++) for (const [impl, env] of Object.entries(impls)) times[impl]!.push(run(ranks, env))
  const coldSeconds = quick ? undefined : cold(ranks)
  for (const [impl, seconds] of Object.entries(times)) {
    seconds.sort((a, b) => a - b)
    console.log(
      JSON.stringify({
        workload: "startup",
        impl,
        ranks,
        params: { program: "examples/hello.ts", reps },
        wall_s: seconds[0],
        result: { ok: 1 },
        metrics: {
          min_s: seconds[0],
          median_s: seconds[Math.floor(seconds.length / 2)],
          ...(impl === "comm" && coldSeconds !== undefined ? { cold_s: coldSeconds } : {}),
        },
      }),
    )
  }
}
