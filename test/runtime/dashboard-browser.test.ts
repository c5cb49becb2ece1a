// --dashboard in a real browser: Debian's chromium (never a downloaded one), driven headless by playwright-core,
// opens the page of a running 3-rank job, sees the ranks, the progress, the traffic matrix and the field preview
// appear, and the job's end. The screenshot goes to a temporary file; RANKFLOW_UPDATE_SCREENSHOT=1 writes it to
// docs/dashboard.png for the guide (docs/guide.md) instead, so a test run leaves the working tree clean.
import { execFileSync } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import test from "ava"
import { decode } from "fast-png"
import { chromium } from "playwright-core"
import { ROOT, startProgram } from "../helpers.ts"

const JOB = "test/fixtures/dashboardJob.ts"
const SCREENSHOT =
  process.env.RANKFLOW_UPDATE_SCREENSHOT === "1" ? join(ROOT, "docs", "dashboard.png") : join(tmpdir(), `rankflow-dashboard-${process.pid}.png`)

/** The system's Chromium (Debian's `chromium` package), or undefined. */
function systemChromium(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim().split("\n")[0] || undefined
  } catch {
    return undefined
  }
}

test("the dashboard page shows a running job's ranks, progress, traffic and field, then its end", async (t) => {
  const executablePath = systemChromium()
  if (executablePath === undefined) {
    t.fail("no chromium on this machine: install Debian's package (apt-get update && apt-get install -y chromium; .ci/run does) — this test never downloads a browser")
    return
  }
  // The browser first: on a loaded machine it takes seconds to start, which the job must not spend (it would end
  // before the page sees a rank wait). Rank 0 pauses 100 ms every 5 steps: 8 s of pauses, ranks 1 and 2 waiting.
  const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] })
  const job = startProgram(JOB, ["--ranks", "3", "--threads", "3", "--dashboard=0", "--dashboard-keep", "--steps", "400", "--pause", "100"], 180_000)
  try {
    const [, url, port] = (await job.waitFor(/dashboard at (http:\/\/127\.0\.0\.1:(\d+)\/)/, 60_000))!
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(url!)
    const wait = { timeout: 60_000 }
    // The ranks appear, each in a known state; then rank 0's progress, traffic between neighbours, the field.
    // Page-side expressions are strings: the tests compile without the DOM's types.
    await page.waitForFunction('document.querySelectorAll("#ranks tbody tr[data-state]").length === 3', undefined, wait)
    await page.waitForFunction('[...document.querySelectorAll("#ranks tbody tr")].some((r) => r.dataset.state === "waiting")', undefined, wait)
    await page.waitForFunction('Number(document.getElementById("progress").value) > 20', undefined, wait)
    await page.waitForFunction('Number(document.querySelector(\'#matrix td[data-from="0"][data-to="1"]\')?.dataset.bytesPerSecond ?? 0) > 0', undefined, wait)
    await page.waitForFunction('Number(document.getElementById("preview").dataset.step) > 0', undefined, wait)
    // The guide's picture, taken while a rank waits (the page may redraw in between: it is checked below).
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    const live = (await page.evaluate(`({
      status: document.getElementById("status").dataset.status,
      ranks: [...document.querySelectorAll("#ranks tbody tr")].map((r) => [...r.cells].map((c) => c.textContent)),
      progress: document.getElementById("progress-text").textContent,
      matrixCells: document.querySelectorAll("#matrix td[data-from]").length,
      preview: [document.getElementById("preview").width, document.getElementById("preview").height],
    })`)) as { status: string; ranks: string[][]; progress: string; matrixCells: number; preview: number[] }
    t.is(live.status, "running")
    t.deepEqual(live.ranks.map((r) => r[0]), ["0", "1", "2"])
    for (const row of live.ranks) {
      t.regex(row[1]!, /^(computing|waiting)$/, JSON.stringify(row))
      if (row[1] === "waiting") t.regex(row[2]!, /^(recv|send|probe|wait) (rank \d|any rank)/, JSON.stringify(row))
      t.regex(row[3]!, /^\d+(\.\d)? MiB$/, "heap")
    }
    t.regex(live.progress, /^steps: \d+ \/ 400 \(\d+%\)$/)
    t.is(live.matrixCells, 9)
    t.deepEqual(live.preview, [64, 64])
    const png = decode(readFileSync(SCREENSHOT))
    if (process.env.RANKFLOW_UPDATE_SCREENSHOT !== "1") rmSync(SCREENSHOT, { force: true })
    t.true(png.width >= 1280 && png.height >= 600, `${png.width} × ${png.height}`)
    const colours = new Set<number>()
    const data = png.data
    for (let i = 0; i < data.length; i += 4 * 97) colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!)
    t.true(colours.size > 20, `a blank screenshot (${colours.size} colours)`)
    // The job ends; the page shows it (kept by --dashboard-keep) with every rank done.
    await page.waitForFunction('document.getElementById("status").dataset.status === "succeeded"', undefined, { timeout: 120_000 })
    const states = await page.evaluate('[...document.querySelectorAll("#ranks tbody tr")].map((r) => r.dataset.state)')
    t.deepEqual(states, ["done", "done", "done"])
    t.regex((await page.textContent("#progress-text"))!, /^steps: 400 \/ 400 \(100%\)$/)
    await job.waitFor(/dashboard kept at/, 30_000)
    job.child.kill("SIGINT")
    const end = await job.done
    t.is(end.code, 0, end.stderr)
    t.is(port !== undefined, true)
  } finally {
    await browser.close()
    if (job.child.exitCode === null) job.child.kill("SIGKILL")
  }
})
