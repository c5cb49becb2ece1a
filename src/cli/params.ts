/**
 * Decodes a pipeline's `--name value` flags with Effect Schema, one schema per
 * declared parameter, naming the flag and the value in the error.
 *
 * Layer: cli (supervisor side only: loads Effect).
 */
import * as Schema from "effect/Schema"
import * as SchemaTransformation from "effect/SchemaTransformation"
import { InvalidOptions } from "../errors.ts"
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
      return matches(INT).pipe(Schema.decodeTo(bounded(Schema.Int, p), SchemaTransformation.numberFromString))
    case "number":
      return matches(NUMBER).pipe(Schema.decodeTo(bounded(Schema.Finite, p), SchemaTransformation.numberFromString))
    default:
      return Schema.String
  }
}

function expected(p: Param<unknown>): string {
  const range = p.min !== undefined && p.max !== undefined ? ` in [${p.min}, ${p.max}]` : p.min !== undefined ? ` ≥ ${p.min}` : p.max !== undefined ? ` ≤ ${p.max}` : ""
  return `${p.kind === "int" ? "an integer" : "a number"}${range}`
}

/** The parseArgs options of declared parameters (all strings but booleans). */
export function paramOptions<P>(params: Params<P>): ExtraOptions {
  return Object.fromEntries(Object.entries(params).map(([name, p]) => [name, { type: (p as Param<unknown>).kind === "boolean" ? "boolean" : "string" }]))
}

/** Decodes the flags given, defaults for the rest; throws InvalidOptions naming the flag. */
export function decodeParams<P>(params: Params<P>, values: ExtraValues): P {
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(params)) {
    const p = spec as Param<unknown>
    const given = values[name]
    if (given === undefined) out[name] = p.default
    else if (typeof given === "boolean") out[name] = given
    else {
      try {
        out[name] = Schema.decodeUnknownSync(schemaOf(p))(given)
      } catch {
        throw new InvalidOptions(`--${name}`, `expected ${expected(p)}, got '${given}'`)
      }
    }
  }
  return out as P
}

/** Usage lines for declared parameters. */
export function paramUsage<P>(params: Params<P>): string[] {
  const entries = Object.entries(params)
  if (entries.length === 0) return []
  return ["", "parameters:", ...entries.map(([name, spec]) => {
    const p = spec as Param<unknown>
    return `      --${`${name} <${p.kind}>`.padEnd(20)}${p.doc}${p.doc === "" ? "" : " "}(default ${String(p.default)})`
  })]
}
