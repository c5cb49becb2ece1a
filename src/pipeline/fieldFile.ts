/**
 * Placeholder until the block file reader lands.
 *
 * Layer: pipeline (rank side).
 */
import { FieldDataMismatch } from "../errors.ts"
import type { FieldArray, FieldInit, FieldSpec } from "../plan/description.ts"
import type { GridBlock, GridLayout } from "../plan/layout.ts"

export function readFieldBlocks(init: Extract<FieldInit, { kind: "file" }>, _spec: FieldSpec, what: string, _layout: GridLayout, _blocks: ReadonlyArray<GridBlock>): FieldArray[] {
  throw new FieldDataMismatch(what, `reading ${init.path} is not wired yet`)
}
