/**
 * Decodes a program's `--name value` flags with Effect Schema, one schema per
 * declared parameter, naming the flag and the value in the error (and, for a
 * choice, the values allowed).
 *
 * Layer: cli (supervisor side only: loads Effect).
 */
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { InvalidOptions } from "../errors.ts"
import { kebab, spellings } from "./names.ts"
import type { ExtraOptions, ExtraValues } from "./options.ts"
import type { Param, Params } from "./paramSpec.ts"

const matches = (pattern: RegExp) => Schema.String.check(Schema.makeFilter((s: string) => (pattern.test(s) ? undefined : "malformed")))
const INT = /^-?(?:0|[1-9][0-9]*)(?:e\+?[0-9]+)?$/i
const NUMBER = /^-?(?:0|[1-9][0-9]*)?(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?$/i

function bounded(schema: Schema.Codec<number, number>, p: Param<unknown>): Schema.Codec<number, number> {
  let s = schema
  if (p.min !== undefined) s = s.check(Schema.isGreaterThanOrEqualTo(p.min))
  if (p.max !== undefined) s = s.check(Schema.isLessThanOrEqualTo(p.max))
  return s
}

function schemaOf(p: Param<unknown>): Schema.Codec<unknown, string> {
  switch (p.kind) {
    case "int":
      return matches(INT).pipe(Schema.decodeTo(bounded(Schema.Int.check(Schema.isLessThanOrEqualTo(Number.MAX_SAFE_INTEGER), Schema.isGreaterThanOrEqualTo(-Number.MAX_SAFE_INTEGER)), p), SchemaTransformation.numberFromString))
    case "number":
      return matches(NUMBER).pipe(Schema.decodeTo(bounded(Schema.Finite, p), SchemaTransformation.numberFromString))
    case "choice":
      return Schema.Literals(p.choices as ReadonlyArray<string>) as unknown as Schema.Codec<unknown, string>
    default:
      return Schema.String
  }
}

function expected(p: Param<unknown>): string {
  if (p.kind === "choice") return `one of ${p.choices!.join(", ")}`
  const range = p.min !== undefined && p.max !== undefined ? ` in [${p.min}, ${p.max}]` : p.min !== undefined ? ` ≥ ${p.min}` : p.max !== undefined ? ` ≤ ${p.max}` : ""
  return `${p.kind === "int" ? "an integer" : "a number"}${range}`
}

/** The flags of declared parameters: kebab-case, the declared camelCase name as an alias; all strings but booleans. */
export function paramOptions<P>(params: Params<P>): ExtraOptions {
  return Object.fromEntries(
    Object.entries(params).map(([name, spec]) => {
      const p = spec as Param<unknown>
      return [name, { type: p.kind === "boolean" ? "boolean" : "string", spellings: spellings(name), ...(p.kind === "list" ? { multiple: true } : {}) }]
    }),
  )
}

function decodeOne(name: string, p: Param<unknown>, given: string): unknown {
  try {
    return Schema.decodeUnknownSync(schemaOf(p))(given)
  } catch {
    throw new InvalidOptions(`--${kebab(name)}`, `expected ${expected(p)}, got '${given}'`)
  }
}

/** Decodes the flags given, defaults for the rest; throws InvalidOptions naming the flag. */
export function decodeParams<P>(params: Params<P>, values: ExtraValues): P {
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(params)) {
    const p = spec as Param<unknown>
    const given = values[name]
    if (given === undefined) out[name] = p.default
    else if (typeof given === "boolean") out[name] = given
    else if (p.kind === "list") {
      const items = (typeof given === "string" ? [given] : given).flatMap((g) => (g === "" ? [] : g.split(",")))
      out[name] = items.map((item) => decodeOne(name, p.item!, item.trim()))
    } else out[name] = decodeOne(name, p, given as string)
  }
  return out as P
}

function placeholder(p: Param<unknown>): string {
  if (p.kind === "choice") return `<${p.choices!.join("|")}>`
  if (p.kind === "list") return `<${placeholder(p.item!).slice(1, -1)},…>`
  return `<${p.kind}>`
}

/** Usage lines for declared parameters. */
export function paramUsage<P>(params: Params<P>): string[] {
  const entries = Object.entries(params)
  if (entries.length === 0) return []
  return [
    "",
    "parameters:",
    ...entries.map(([name, spec]) => {
      const p = spec as Param<unknown>
      const flag = p.kind === "boolean" ? `--[no-]${kebab(name)}` : `--${kebab(name)} ${placeholder(p)}`
      const shown = p.kind === "list" ? (p.default as ReadonlyArray<unknown>).join(",") : String(p.default)
      const text = `${p.doc}${p.doc === "" ? "" : " "}(default ${shown === "" ? "''" : shown})`
      return flag.length < 20 ? `      ${flag.padEnd(20)}${text}` : `      ${flag}\n${" ".repeat(26)}${text}`
    }),
  ]
}
