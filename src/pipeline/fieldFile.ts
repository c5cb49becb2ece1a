/**
 * A field's initial values read from a file: each rank reads its blocks'
 * points only, from a `.npy` file or raw little-endian elements of the
 * field's type and the grid's shape.
 *
 * Layer: pipeline (rank side).
 */
import type { FieldArray, FieldInit, FieldSpec } from "../plan/description.ts"
import type { GridBlock } from "../plan/layout.ts"
import { readBlocks } from "./blockFile.ts"

/** Block interiors (row-major) of `init`'s file for `blocks`; throws FieldFileError naming the file and what does not match. */
export function readFieldBlocks(init: Extract<FieldInit, { kind: "file" }>, spec: FieldSpec, shape: ReadonlyArray<number>, blocks: ReadonlyArray<GridBlock>): FieldArray[] {
  return readBlocks(init.path, { shape, type: spec.type, format: init.format }, blocks)
}
