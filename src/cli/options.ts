/**
 * Runtime options shared by every rankflow program (`--ranks`, `--timeout`,
 * `--help`), parsed with `node:util`'s strict `parseArgs` and decoded with
 * Effect Schema, so a bad value or an unknown flag is rejected — with the
 * option named — before any worker starts.
 *
 * Layer: cli (supervisor side only).
 */
import { availableParallelism } from "node:os"
import { parseArgs } from "node:util"
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { InvalidOptions } from "../errors.ts"

export interface RuntimeOptions {
  /** Number of ranks (default: the number of cores). */
  readonly ranks: number
  /** Time limit of the whole run in seconds. */
  readonly timeout: number | undefined
  /** Quiet period after which all-blocked ranks are reported as deadlocked (0: never). */
  readonly deadlockAfter: number
  /** Time limit of any single blocking communication call, in seconds. */
  readonly commTimeout: number | undefined
  /** Draw rank 0's progress on stderr. */
  readonly progress: boolean
  /** Count every rank's traffic and waits, and report them on stderr at the end. */
  readonly trace: boolean
  readonly help: boolean
  /** Values of a program's own flags (see `ExtraOptions`). */
  readonly extra: ExtraValues
}

/** A program's own flags, added to the runtime's (util.parseArgs form). */
export type ExtraOptions = Readonly<Record<string, { readonly type: "string" | "boolean"; readonly short?: string }>>
export type ExtraValues = Readonly<Record<string, string | boolean | undefined>>

/** A string of plain decimal digits (no "0x10", "1e3" or " 7 ", which Number() would accept). */
const digits = (pattern: RegExp) =>
  Schema.String.check(Schema.makeFilter((s: string) => (pattern.test(s) ? undefined : "malformed")))
const PositiveInt = digits(/^[1-9][0-9]{0,8}$/).pipe(Schema.decodeTo(Schema.Int, SchemaTransformation.numberFromString))
const decimal = digits(/^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/)
const PositiveNumber = decimal.pipe(Schema.decodeTo(Schema.Finite.check(Schema.isGreaterThan(0)), SchemaTransformation.numberFromString))
const NonNegativeNumber = decimal.pipe(Schema.decodeTo(Schema.Finite, SchemaTransformation.numberFromString))

/** Decodes one option value, naming the option and the value in the error. */
function decode<A>(schema: Schema.Codec<A, string>, option: string, value: string, expected: string): A {
  try {
    return Schema.decodeUnknownSync(schema)(value)
  } catch {
    throw new InvalidOptions(`--${option}`, `expected ${expected}, got '${value}'`)
  }
}

/** A count given as `--option <digits>` (as `--ranks`); throws `InvalidOptions` naming the option and the value. */
export function decodePositiveInt(option: string, value: string): number {
  return decode(PositiveInt, option, value, "a positive integer")
}

/** Parses and validates the runtime options; throws `InvalidOptions`. */
export function parseRuntimeOptions(argv: ReadonlyArray<string>, extra: ExtraOptions = {}): RuntimeOptions {
  let values
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        ...extra,
        ranks: { type: "string", short: "n" },
        timeout: { type: "string" },
        "deadlock-after": { type: "string" },
        "comm-timeout": { type: "string" },
        progress: { type: "boolean" },
        trace: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    throw new InvalidOptions("", (error as Error).message)
  }
  return {
    ranks: values.ranks === undefined ? availableParallelism() : decodePositiveInt("ranks", values.ranks),
    timeout: values.timeout === undefined ? undefined : decode(PositiveNumber, "timeout", values.timeout, "a positive number of seconds"),
    deadlockAfter:
      values["deadlock-after"] === undefined
        ? 1
        : decode(NonNegativeNumber, "deadlock-after", values["deadlock-after"], "a number of seconds ≥ 0"),
    commTimeout:
      values["comm-timeout"] === undefined
        ? undefined
        : decode(PositiveNumber, "comm-timeout", values["comm-timeout"], "a positive number of seconds"),
    progress: values.progress === true,
    trace: values.trace === true,
    help: values.help === true,
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, values[k as keyof typeof values] as string | boolean | undefined])),
  }
}

/** The usage text printed by `--help` and after an option error. */
export function usage(): string {
  return [
    "usage: tsx <program.ts> [options]",
    "",
    "options:",
    "  -n, --ranks <n>     number of ranks (worker threads); default: number of cores",
    "      --timeout <s>   fail the run if it takes longer than <s> seconds",
    "      --deadlock-after <s>",
    "                      report a deadlock once every rank has been blocked <s> s (default 1, 0: off)",
    "      --comm-timeout <s>",
    "                      fail any single blocking send/recv/collective waiting longer than <s> s",
    "      --progress      show the progress of rank 0's loops, farms and streams on stderr",
    "      --trace         count each rank's messages (by lane), waits and collectives; report them at the end",
    "  -h, --help          show this help",
  ].join("\n")
}
