/**
 * Checkpoints of a grid pipeline's outermost loop: every field (and
 * previous level) written every K steps as global `.npy` arrays, atomically
 * (checkpoint.ts), and a restart that reads the newest one back into this
 * run's blocks — on any rank count, since the files are global arrays — and
 * resumes that loop at the step after it, with the same results as a run
 * never interrupted.
 *
 * Layer: pipeline (rank side).
 */
import type { Comm } from "../comm/comm.ts"
import { CheckpointError } from "../errors.ts"
import type { FieldSpec, FieldStage } from "../plan/description.ts"
import { latestCheckpoint, readCheckpoint, writeCheckpoint } from "./checkpoint.ts"
import { arrayOf, type FieldBlock, type Level } from "./field.ts"

/** Where and how often to checkpoint. */
export interface CheckpointPolicy {
  /** Write a checkpoint every this many steps of the outermost loop. */
  readonly every: number
  /** The directory holding `step-…` checkpoints. */
  readonly dir: string
  /** Keep only the newest this many (default: all). */
  readonly keep?: number
}

/** Where a restarted run picks up: the top-level stage (a loop) and its last completed step. */
export interface Resume {
  readonly stage: number
  readonly step: number
  readonly measure?: number
}

/** What the run shares with checkpoints. */
export interface CheckpointedRun {
  readonly comm: Comm
  readonly blocks: ReadonlyArray<FieldBlock>
  readonly specs: ReadonlyArray<FieldSpec>
  readonly shape: ReadonlyArray<number>
  measure?: number
}

const levelsOf = (b: FieldBlock, f: number): number => b.levels[f]!.buffers.length

/**
 * The second buffer a checkpoint keeps of field f: its previous level when
 * it has one; in an `until` loop, otherwise, the values before the last
 * update (`next` after the rotation), which measures compare with `u`.
 */
function secondLevel(run: CheckpointedRun, f: number, inUntil: boolean): Level | undefined {
  if (hasPrevious(run, f)) return "prev"
  return inUntil ? "next" : undefined
}

/** Writes every field's current (and second) level of every block at `step` of top-level stage `stage`: a collective call. */
export function saveCheckpoint(run: CheckpointedRun, policy: CheckpointPolicy, stage: number, step: number, inUntil: boolean): void {
  const { blocks, specs } = run
  const copy = (b: FieldBlock, f: number, which: Level) => {
    const out = arrayOf(specs[f]!.type, b.points)
    b.copyInterior(out, 0, f, which)
    return out
  }
  const fields = specs.map((spec, f) => {
    const second = secondLevel(run, f, inUntil)
    return { name: spec.name, type: spec.type, current: blocks.map((b) => copy(b, f, "u")), ...(second === undefined ? {} : { previous: blocks.map((b) => copy(b, f, second)) }) }
  })
  const extra = { stage, ...(run.measure === undefined ? {} : { measure: run.measure }) }
  writeCheckpoint(policy.dir, step, { shape: run.shape, blocks: blocks.map((b) => b.block), fields, extra }, run.comm, policy.keep === undefined ? {} : { keep: policy.keep })
}

/** A field keeps a previous level when it declares one (every rank agrees, even one holding no block). */
const hasPrevious = (run: CheckpointedRun, f: number): boolean => run.specs[f]!.previous !== undefined || (run.blocks[0] !== undefined && levelsOf(run.blocks[0], f) === 3)

/**
 * Reads the newest complete checkpoint of `dir` into the blocks and says
 * where to resume; `CheckpointError` when there is none, or when it does not
 * fit this pipeline (grid, fields, types, levels, the loop it was taken in).
 */
export function restoreCheckpoint(run: CheckpointedRun, dir: string, program: ReadonlyArray<FieldStage>): Resume {
  const latest = latestCheckpoint(dir)
  if (latest === undefined) throw new CheckpointError(dir, "none", [`--restart found no complete step-… directory in ${dir}`])
  const stage = (latest.manifest.extra as { stage?: unknown } | undefined)?.stage
  const loop = typeof stage === "number" ? program[stage] : undefined
  if (loop === undefined || (loop.kind !== "iterate" && loop.kind !== "until"))
    throw new CheckpointError(dir, "mismatch", [`${latest.path} was taken in top-level stage ${String(stage)}, which is not a loop of this pipeline`])
  const inUntil = loop.kind === "until"
  const expected = { shape: run.shape, fields: run.specs.map((s, f) => ({ name: s.name, type: s.type, previous: secondLevel(run, f, inUntil) !== undefined })) }
  const restored = readCheckpoint(dir, expected, run.blocks.map((b) => b.block), { step: latest.step })
  const extra = restored.extra as { measure?: unknown } | undefined
  const total = loop.kind === "iterate" ? loop.steps : loop.maxSteps
  if (restored.step > total) throw new CheckpointError(dir, "mismatch", [`${latest.path} is at step ${restored.step}, past the loop's ${total} steps`])
  run.specs.forEach((spec, f) => {
    const field = restored.fields[spec.name]!
    const second = secondLevel(run, f, inUntil)
    run.blocks.forEach((b, i) => {
      b.setInterior(f, "u", field.current[i]!)
      if (second !== undefined && field.previous !== undefined) b.setInterior(f, second, field.previous[i]!)
      b.step = restored.step
    })
  })
  const measure = typeof extra?.measure === "number" ? extra.measure : undefined
  if (measure !== undefined) run.measure = measure
  return { stage, step: restored.step, ...(measure === undefined ? {} : { measure }) } as Resume
}
