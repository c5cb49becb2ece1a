/**
 * Reductions that fail loudly from plain JavaScript too, where no type stops
 * a wrong value: an op that is not an op is refused when the pipeline is
 * built; a value a built-in op cannot reduce is refused on the rank that
 * computed it, before anything is collected (so also when there is only one
 * value and nothing is ever combined); a field fold whose user op returns a
 * non-number is refused where it happens.
 *
 * Layer: pipeline (rank side). Loads no Effect.
 */
import { describeOperand, isBuiltin, opName, rejects, type ReduceOp } from "../comm/ops.ts"
import { InvalidArgument, ReduceResultNotNumber, ReduceTypeMismatch } from "../errors.ts"
import type { Terminal } from "../plan/description.ts"

/** `op`, checked to be a reduction op (a built-in or an object with `concat`): `InvalidArgument` otherwise. */
export function checkedOp<O>(call: string, op: O): O {
  if (typeof op !== "object" || op === null || typeof (op as { concat?: unknown }).concat !== "function")
    throw new InvalidArgument(call, "op", op === undefined ? "undefined" : describeOperand(op), "must be a reduction op (SUM, MAX, …) or an fp-ts Semigroup/Monoid with concat")
  return op
}

/** The call a terminal's errors name: "reduce", "allreduce" or "scan". */
const callOf = (terminal: Terminal): string => (terminal.kind === "reduce" ? (terminal.all ? "allreduce" : "reduce") : terminal.kind)

/**
 * Refuses, on `rank`, a value that the terminal's built-in op cannot reduce
 * (`ReduceTypeMismatch` naming the rank, the call, the op and the value's
 * kind). A typeof or two per value; nothing for `gather` or a user op.
 */
export function checkOperand(terminal: Terminal, value: unknown, rank: number): void {
  if (terminal.kind === "gather" || terminal.kind === "save" || !isBuiltin(terminal.op)) return
  const accepts = rejects(terminal.op, value)
  if (accepts !== undefined) throw new ReduceTypeMismatch(rank, callOf(terminal), terminal.op.name, describeOperand(value), accepts)
}

/** A field fold's value (a block's, or the combined one): a number, or `ReduceResultNotNumber` naming the rank and what came out. */
export function checkFieldFold(terminal: Terminal, value: unknown, rank: number): void {
  if (typeof value === "number" || terminal.kind === "gather" || terminal.kind === "save") return
  throw new ReduceResultNotNumber(rank, `field ${callOf(terminal)}`, opName(terminal.op as ReduceOp<unknown>), describeOperand(value))
}
