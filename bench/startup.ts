// Whole-process start-up of a hello world on N ranks, from spawn to exit, in the forms users type,
// beside mpi4py's `mpirun -np N python3 -c 'from mpi4py import MPI; import numpy'` in the same run
// (the forms' runs interleaved, so all see the same noise). Min and median of the reps; one JSON
// line per form and rank count.
//   tsx bench/startup.ts [--quick] [--ranks 1,2,4,8] [--reps N] [--compare] [--forms] [--project DIR]
// --project DIR: the forms as a user of the package types them, in DIR, a project where rankflow
// (and tsx) are installed (e.g. from the tarball `npm pack` makes); hello.ts and hello.js are written
// there. `bin` is then node_modules/.bin/rankflow, and every import of "rankflow" is the installed one.
// impls:
//   comm         node --import tsx examples/hello.ts   (ranks import the entry bundled to plain JS,
//                cached; metrics.cold_s: the median of runs that build the bundle into an empty cache)
//   npx-tsx      npx tsx examples/hello.ts             (the README's form until now)
//   bin          node dist/bin.js examples/hello.ts    (`rankflow hello.ts` in a project: no tsx on
//                the main thread; dist/ is built first when missing)
//   npx-rankflow npx rankflow examples/hello.ts        (the same through npx)
//   compiled-js  node test/fixtures/hello.js           (a compiled-JS consumer: rankflow from dist/;
//                metrics.cold_s: the median of its first runs with an empty bundle cache)
//   mpi4py       the line above (skipped, with a note on stderr, when mpirun or mpi4py is missing;
//                MPI_PYTHON picks the interpreter, default /usr/bin/python3 then python3)
//   comm-tsx     (--compare) RANKFLOW_BUNDLE=0: every rank registers tsx and compiles the sources
// --quick measures `comm` only (1 rep, ranks 1 and 2) unless --forms is given.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const quick = process.argv.includes("--quick")
const forms = !quick || process.argv.includes("--forms")
const ranksArg = process.argv.indexOf("--ranks")
const rankCounts = ranksArg > 0 ? process.argv[ranksArg + 1]!.split(",").map(Number) : quick ? [1, 2] : [1, 2, 4, 8]
const repsArg = process.argv.indexOf("--reps")
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : quick ? 1 : 3
const projectArg = process.argv.indexOf("--project")
const project = projectArg > 0 ? process.argv[projectArg + 1]! : undefined
const cwd = project ?? root

interface Form {
  /** What a user types (the command as it runs here). */
  readonly command: (ranks: number) => string[]
  readonly env?: NodeJS.ProcessEnv
  readonly program: string
}

const HELLO_TS = project === undefined ? "examples/hello.ts" : "hello.ts"
const HELLO_JS = project === undefined ? "test/fixtures/hello.js" : "hello.js"
if (project !== undefined) {
  // The same programs as in this repository, importing the installed package.
  writeFileSync(join(project, HELLO_TS), readFileSync(join(root, "examples/hello.ts"), "utf8"))
  writeFileSync(join(project, HELLO_JS), readFileSync(join(root, "test/fixtures/hello.js"), "utf8"))
}
const hello = (ranks: number): string[] => [HELLO_TS, "--ranks", String(ranks)]

/** The Python with mpi4py and numpy, when there is one and mpirun too. */
function mpiPython(): string | undefined {
  if (spawnSync("mpirun", ["--version"], { stdio: "ignore" }).status !== 0) return undefined
  const candidates = [process.env.MPI_PYTHON, "/usr/bin/python3", "python3"].filter((p): p is string => p !== undefined && p !== "")
  return candidates.find((python) => spawnSync(python, ["-c", "from mpi4py import MPI; import numpy"], { stdio: "ignore" }).status === 0)
}

function allForms(): Record<string, Form> {
  const found: Record<string, Form> = {
    comm: { command: (n) => [process.execPath, "--import=tsx", ...hello(n)], program: HELLO_TS },
  }
  if (process.argv.includes("--compare"))
    found["comm-tsx"] = { command: (n) => [process.execPath, "--import=tsx", ...hello(n)], env: { RANKFLOW_BUNDLE: "0" }, program: HELLO_TS }
  if (!forms) return found
  found["npx-tsx"] = { command: (n) => ["npx", "tsx", ...hello(n)], program: HELLO_TS }
  if (project === undefined && !existsSync(join(root, "dist", "bin.js"))) execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "ignore" })
  found.bin =
    project === undefined
      ? { command: (n) => [process.execPath, "dist/bin.js", ...hello(n)], program: HELLO_TS }
      : { command: (n) => [join(project, "node_modules", ".bin", "rankflow"), ...hello(n)], program: HELLO_TS }
  found["npx-rankflow"] = { command: (n) => ["npx", "rankflow", ...hello(n)], program: HELLO_TS }
  found["compiled-js"] = { command: (n) => [process.execPath, HELLO_JS, "--ranks", String(n)], program: HELLO_JS }
  const python = mpiPython()
  if (python === undefined) console.error("startup: mpi4py line skipped (no mpirun, or no python3 with mpi4py and numpy)")
  else
    found.mpi4py = {
      command: (n) => ["mpirun", ...(process.getuid?.() === 0 ? ["--allow-run-as-root"] : []), "--oversubscribe", "-np", String(n), python, "-c", "from mpi4py import MPI; import numpy"],
      program: "python3 -c 'from mpi4py import MPI; import numpy'",
    }
  return found
}

/** Seconds for one run. */
function run(form: Form, ranks: number, env: NodeJS.ProcessEnv = {}): number {
  const [command, ...args] = form.command(ranks)
  const t0 = performance.now()
  execFileSync(command!, args, { cwd, stdio: "ignore", env: { ...process.env, ...form.env, ...env } })
  return (performance.now() - t0) / 1000
}

/** One run with an empty bundle cache: what the first run after an edit (or after installing) costs. */
function cold(form: Form, ranks: number): number {
  const cache = mkdtempSync(join(tmpdir(), "rankflow-startup-cache-"))
  try {
    return run(form, ranks, { RANKFLOW_CACHE_DIR: cache })
  } finally {
    rmSync(cache, { recursive: true, force: true })
  }
}

/** Forms whose first run (empty bundle cache) is measured too, interleaved with the warm runs; cold_s is its median. */
const COLD = ["comm", "compiled-js"]

const impls = allForms()
for (const form of Object.values(impls)) run(form, 1) // warms the bundle cache (and the OS file cache)
for (const ranks of rankCounts) {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(impls).map((impl) => [impl, []]))
  const colds: Record<string, number[]> = Object.fromEntries(COLD.filter((impl) => !quick && impl in impls).map((impl) => [impl, []]))
  for (let i = 0; i < reps; i++) {
    for (const [impl, form] of Object.entries(impls)) times[impl]!.push(run(form, ranks))
    for (const [impl, seconds] of Object.entries(colds)) seconds.push(cold(impls[impl]!, ranks))
  }
  for (const [impl, seconds] of Object.entries(times)) {
    seconds.sort((a, b) => a - b)
    const coldSeconds = colds[impl]?.sort((a, b) => a - b)
    const form = impls[impl]!
    console.log(
      JSON.stringify({
        workload: "startup",
        impl,
        ranks,
        params: {
          program: form.program,
          command: form.command(ranks).join(" ").replace(process.execPath, "node").replace(`${project ?? "\0"}/node_modules/.bin/`, ""),
          reps,
          ...(project === undefined ? {} : { where: "consumer project (installed tarball)" }),
        },
        wall_s: seconds[0],
        result: { ok: 1 },
        metrics: {
          min_s: seconds[0],
          median_s: seconds[Math.floor(seconds.length / 2)],
          ...(coldSeconds === undefined ? {} : { cold_s: coldSeconds[Math.floor(coldSeconds.length / 2)]! }),
        },
      }),
    )
  }
}
