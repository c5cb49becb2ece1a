// --progress on a terminal: the program runs under a pseudo-terminal (util-linux `script`), and its
// output is replayed into a headless terminal emulator (xterm.js) to read the screen a user sees.
import { execFile } from "node:child_process"
import test from "ava"
import xterm from "@xterm/headless"
import { ROOT } from "../helpers.ts"

const COLUMNS = 100
const ROWS = 20

/** Runs a command on a pseudo-terminal of COLUMNS × ROWS; resolves with its exit code and raw output. */
function onTerminal(command: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile("script", ["-q", "-e", "-c", `stty cols ${COLUMNS} rows ${ROWS}; ${command}`, "/dev/null"], { cwd: ROOT, timeout: 60_000 }, (error, stdout) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, output: stdout })
    })
  })
}

/** Every line the terminal shows or scrolled away, as text, after replaying `output`. */
async function screen(output: string): Promise<string[]> {
  const terminal = new xterm.Terminal({ cols: COLUMNS, rows: ROWS, scrollback: 1000, allowProposedApi: true })
  await new Promise<void>((resolve) => terminal.write(output.replace(/\r?\n/g, "\r\n"), resolve))
  const buffer = terminal.buffer.active
  return Array.from({ length: buffer.length }, (_, i) => buffer.getLine(i)!.translateToString(true))
}

test("on a terminal, --progress draws below rank 0's output and never inside its lines", async (t) => {
  const run = await onTerminal(`${process.execPath} --import=tsx test/fixtures/progressPrinting.ts --ranks 2 --progress`)
  t.is(run.code, 0, run.output)
  t.regex(run.output, /\x1b\[1;19r/, "the bar had the bottom line to itself while the run lasted")
  t.true((run.output.match(/work \[/g) ?? []).length >= 3, "the bar was redrawn as the run advanced")
  const lines = await screen(run.output)
  const printed = lines.filter((l) => l.includes("rank 0 line"))
  t.deepEqual(
    printed,
    Array.from({ length: 12 }, (_, k) => `rank 0 line ${k + 1} of 12: the quick brown fox jumps over the lazy dog`),
    "every line of rank 0 reads as printed, in order, once",
  )
  t.false(lines.some((l) => /work \[/.test(l) && /rank 0|result/.test(l)), "no line holds both the bar and output")
  const result = lines.indexOf("result: done")
  const bar = lines.findIndex((l) => /^work \[█+\] 100% \| 12\/12 \| \d+s$/.test(l))
  t.true(result >= 0 && bar > result, "the final bar is printed once, after the output")
  t.is(lines.filter((l) => l.startsWith("work [")).length, 1, "no stale bar is left on screen")
})
