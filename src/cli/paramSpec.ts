/**
 * Pipeline parameters as data: a name, a kind, a default and bounds. Light on
 * purpose — ranks load it with the pipeline; the supervisor turns each spec
 * into an Effect Schema (params.ts beside this file) to decode `--name value` flags.
 *
 * Layer: cli (no Effect here).
 */

/** One declared parameter. */
export interface Param<A> {
  readonly _tag: "Param"
  /** The value's type on the command line. */
  readonly kind: "int" | "number" | "string" | "boolean"
  /** The value when the flag is not given. */
  readonly default: A
  /** One line for `--help`. */
  readonly doc: string
  /** Inclusive bounds for numbers. */
  readonly min?: number
  /** Inclusive upper bound for numbers. */
  readonly max?: number
}

/** Parameters declared as `{ name: Param }`. */
export type Params<P> = { readonly [K in keyof P]: Param<P[K]> }

interface Bounds {
  readonly min?: number
  readonly max?: number
}

/**
 * An integer parameter, `--name 123`.
 *
 * @example
 * ```ts
 * import { Param } from "rankflow"
 * console.log(Param.int(1000, "grid points", { min: 3 }).default) // 1000
 * ```
 */
export function int(value: number, doc = "", bounds: Bounds = {}): Param<number> {
  return { _tag: "Param", kind: "int", default: value, doc, ...bounds }
}

/** A number parameter, `--name 1e-5`. */
export function number(value: number, doc = "", bounds: Bounds = {}): Param<number> {
  return { _tag: "Param", kind: "number", default: value, doc, ...bounds }
}

/** A string parameter, `--name text`. */
export function string(value: string, doc = ""): Param<string> {
  return { _tag: "Param", kind: "string", default: value, doc }
}

/** A boolean flag, `--name` (present: true). */
export function boolean(value: boolean, doc = ""): Param<boolean> {
  return { _tag: "Param", kind: "boolean", default: value, doc }
}

/** The defaults of declared parameters. */
export function defaults<P>(params: Params<P>): P {
  return Object.fromEntries(Object.entries(params).map(([k, p]) => [k, (p as Param<unknown>).default])) as P
}
