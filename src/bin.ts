#!/usr/bin/env node
/**
 * The `rankflow` command (package.json `bin`):
 *   rankflow <program.ts|.js> [options]   runs a program, as `tsx program.ts` would
 *   rankflow doctor [--json]              what this installation can use, and what each absence costs
 *   rankflow --version
 *
 * A TypeScript program is bundled to plain JS once (the cache ranks use
 * anyway, see runtime/bundle.ts) and the main thread imports that bundle:
 * no TypeScript loader is registered on the main thread, which saves tsx's
 * start-up (~0.2 s CPU). A program that cannot be bundled runs through tsx.
 *
 * Layer: top (uses runtime/).
 */
import { existsSync, statSync } from "node:fs"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"

const USAGE = `usage: rankflow <program.ts|.js> [options]   run a rankflow program (its --help lists the options)
       rankflow doctor [--json]              report the native addon, bundle cache, TypeScript loader, cores and memory
       rankflow --version
`

async function version(): Promise<string> {
  return (await import("./runtime/init.ts")).rankflowVersion()
}

/** Runs `file` as the entry module of this process, with `args` as its command line. */
async function runProgram(file: string, args: ReadonlyArray<string>): Promise<void> {
  const path = resolve(file)
  process.argv = [process.argv[0]!, path, ...args] // init() takes the entry and the options from here
  const url = pathToFileURL(path).href
  if (/\.[mc]?tsx?$/.test(path)) {
    const { bundleForRanks } = await import("./runtime/bundle.ts")
    const bundled = await bundleForRanks(url)
    if (bundled._tag === "Bundled") {
      process.setSourceMapsEnabled(true)
      await import(bundled.entry)
      return
    }
    const { register } = (await import("tsx/esm/api")) as { register: () => unknown }
    register()
  }
  await import(url)
}

const isProgram = (arg: string): boolean => /\.[mc]?[jt]sx?$/.test(arg) || (existsSync(arg) && statSync(arg).isFile())

const [command, ...rest] = process.argv.slice(2)
if (command !== undefined && command !== "doctor" && !command.startsWith("-") && isProgram(command)) {
  if (!existsSync(command)) {
    process.stderr.write(`rankflow: no such program: ${command}\n`)
    process.exit(2)
  }
  await runProgram(command, rest)
} else if (command === "doctor" && rest.every((a) => a === "--json")) {
  const { doctor, formatDoctor } = await import("./runtime/doctor.ts")
  const checks = doctor()
  process.stdout.write(rest.includes("--json") ? `${JSON.stringify({ version: await version(), checks }, null, 2)}\n` : `rankflow ${await version()}\n${formatDoctor(checks)}`)
} else if (command === "--version" || command === "-v") {
  process.stdout.write(`${await version()}\n`)
} else if (command === "--help" || command === "-h" || command === "help") {
  process.stdout.write(USAGE)
} else {
  process.stderr.write(`rankflow: ${command === undefined ? "no command given" : `unknown command or option: ${[command, ...rest].join(" ")}`}\n${USAGE}`)
  process.exitCode = 2
}
