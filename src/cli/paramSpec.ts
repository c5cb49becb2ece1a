/**
 * Pipeline parameters as data: a name, a kind, a default and bounds. Light on
 * purpose — ranks load it with the pipeline; the supervisor turns each spec
 * into an Effect Schema (params.ts beside this file) to decode `--name value` flags.
 *
 * Layer: cli (no Effect here).
 */
import { InvalidArgument } from "../errors.ts"

/** One declared parameter. */
export interface Param<A> {
  readonly _tag: "Param"
  /** The value's type on the command line. */
  readonly kind: "int" | "number" | "string" | "boolean" | "choice" | "list"
  /** The value when the flag is not given. */
  readonly default: A
  /** One line for `--help`. */
  readonly doc: string
  /** Inclusive bounds for numbers. */
  readonly min?: number
  /** Inclusive upper bound for numbers. */
  readonly max?: number
  /** The allowed values of a `choice`. */
  readonly choices?: ReadonlyArray<string>
  /** The parameter each element of a `list` is decoded as. */
  readonly item?: Param<unknown>
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

/** A boolean flag: `--name` or `--name=true` sets it, `--no-name` or `--name=false` clears it (so a `true` default can be switched off). */
export function boolean(value: boolean, doc = ""): Param<boolean> {
  return { _tag: "Param", kind: "boolean", default: value, doc }
}

/**
 * One of a fixed set of strings, `--name value`; any other value is refused
 * (exit 2) with the allowed ones listed. The type is the union of the choices.
 *
 * @example
 * ```ts
 * import { Param } from "rankflow"
 * const d = Param.choice(["block", "cyclic", "dynamic"], "cyclic", "how rows go to ranks")
 * const picked: "block" | "cyclic" | "dynamic" = d.default
 * console.log(picked, d.choices) // cyclic [ 'block', 'cyclic', 'dynamic' ]
 * ```
 */
export function choice<const C extends ReadonlyArray<string>>(choices: C, value: C[number], doc = ""): Param<C[number]> {
  if (choices.length === 0) throw new InvalidArgument("Param.choice", "choices", "[]", "must name at least one value")
  if (!choices.includes(value)) throw new InvalidArgument("Param.choice", "default", value, `must be one of ${choices.join(", ")}`)
  return { _tag: "Param", kind: "choice", default: value, doc, choices }
}

/**
 * A comma-separated list, `--name 1,2,3` (or the flag repeated), each element
 * decoded and checked as `item` is (bounds, choices); `--name ''` is empty.
 *
 * @example
 * ```ts
 * import { Param } from "rankflow"
 * const sizes = Param.list(Param.int(0, "", { min: 1 }), [64, 128], "grid sizes to try")
 * console.log(sizes.default.length) // 2
 * ```
 */
export function list<A>(item: Param<A>, value: ReadonlyArray<A>, doc = ""): Param<ReadonlyArray<A>> {
  if (item.kind === "list" || item.kind === "boolean") throw new InvalidArgument("Param.list", "item", item.kind, "must be an int, number, string or choice parameter")
  return { _tag: "Param", kind: "list", default: value, doc, item: item as Param<unknown> }
}

/** The defaults of declared parameters. */
export function defaults<P>(params: Params<P>): P {
  return Object.fromEntries(Object.entries(params).map(([k, p]) => [k, (p as Param<unknown>).default])) as P
}
