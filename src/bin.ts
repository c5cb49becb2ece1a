#!/usr/bin/env node
/**
 * The `rankflow` command (package.json `bin`):
 *   rankflow doctor [--json]   what this installation can use, and what each absence costs
 *   rankflow --version
 *
 * Layer: top (uses runtime/).
 */
import { readFileSync } from "node:fs"
import { doctor, formatDoctor } from "./runtime/doctor.ts"

const USAGE = `usage: rankflow doctor [--json]    report the native addon, bundle cache, TypeScript loader, cores and memory
       rankflow --version
`

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
  return manifest.version
}

const [command, ...rest] = process.argv.slice(2)
if (command === "doctor" && rest.every((a) => a === "--json")) {
  const checks = doctor()
  process.stdout.write(rest.includes("--json") ? `${JSON.stringify({ version: version(), checks }, null, 2)}\n` : `rankflow ${version()}\n${formatDoctor(checks)}`)
} else if (command === "--version" || command === "-v") {
  process.stdout.write(`${version()}\n`)
} else if (command === "--help" || command === "-h" || command === "help") {
  process.stdout.write(USAGE)
} else {
  process.stderr.write(`rankflow: ${command === undefined ? "no command given" : `unknown command or option: ${[command, ...rest].join(" ")}`}\n${USAGE}`)
  process.exitCode = 2
}
