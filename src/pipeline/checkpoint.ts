/**
 * Checkpoints of a pipeline's named fields at a step, for `--restart`: one
 * directory per step (`dir/step-000000120/`) holding one global `.npy` per
 * field and time level (`u.npy`, `u.prev.npy` for the previous level) and a
 * `manifest.json` (step, grid shape, fields and their types, rankflow's
 * version, the caller's extra state). The files are global arrays written
 * block by block (blockFile.ts), so a restart on any rank count reads its
 * own blocks back; numpy reads them as they are.
 *
 * Atomic: everything is written into `step-….tmp/`, and rank 0 renames it to
 * `step-…/` only after every rank's blocks and the manifest are on disk. A
 * crash mid-write leaves only a `.tmp` directory, which restarts ignore and
 * the next checkpoint removes.
 *
 * Layer: pipeline (rank side). Imports node:fs, blockFile.ts, npy.ts,
 * errors.ts, the Comm type and the version reader of runtime/init.ts.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs"
import { join } from "node:path"
import type { Comm } from "../comm/comm.ts"
import { CheckpointError, FieldFileError, InvalidArgument } from "../errors.ts"
import { rankflowVersion } from "../runtime/init.ts"
import { readBlocks, writeBlocks, type BlockRegion, type WriteComm } from "./blockFile.ts"
import type { ElementArray, ElementType } from "./npy.ts"

/** One field's blocks on this thread, for {@link writeCheckpoint}. */
export interface CheckpointField {
  /** The field's name (a JavaScript identifier; it names the files). */
  readonly name: string
  /** The field's element type. */
  readonly type: ElementType
  /** The current time level: one row-major interior array per block, in the order of `CheckpointState.blocks`. */
  readonly current: ReadonlyArray<ElementArray>
  /** The previous time level, for schemes that keep two (same layout as `current`). */
  readonly previous?: ReadonlyArray<ElementArray>
}

/** What {@link writeCheckpoint} saves: the grid, this thread's blocks, the fields, and any extra state. */
export interface CheckpointState {
  /** The global grid shape, outermost dimension first. */
  readonly shape: ReadonlyArray<number>
  /** This thread's blocks (possibly none); each field holds one array per block. */
  readonly blocks: ReadonlyArray<BlockRegion>
  /** The fields to save. Every rank passes the same names, types and levels. */
  readonly fields: ReadonlyArray<CheckpointField>
  /**
   * State to restore with the fields (e.g. the last `until` measure): JSON
   * values, where numbers keep every bit (NaN, ±Infinity and -0 included).
   * Rank 0's is saved, so pass the same on every rank.
   */
  readonly extra?: unknown
}

/** A field as the manifest records it. */
export interface ManifestField {
  /** The field's name. */
  readonly name: string
  /** Its element type. */
  readonly type: ElementType
  /** The file of each time level, current first (`["u.npy", "u.prev.npy"]`). */
  readonly files: ReadonlyArray<string>
}

/** The contents of a checkpoint's `manifest.json`. */
export interface Manifest {
  /** Always `"rankflow-checkpoint"`. */
  readonly format: "rankflow-checkpoint"
  /** Version of this layout (1). */
  readonly formatVersion: 1
  /** The rankflow version that wrote it. */
  readonly rankflow: string
  /** The step the fields are at. */
  readonly step: number
  /** The global grid shape. */
  readonly shape: ReadonlyArray<number>
  /** The fields, in the order they were given. */
  readonly fields: ReadonlyArray<ManifestField>
  /** The number of ranks that wrote it (a restart may use another). */
  readonly ranks: number
  /** The caller's extra state, if any (non-finite numbers and -0 stored as `{ "$number": "NaN" }` etc.). */
  readonly extra?: unknown
}

/** A complete checkpoint found on disk. */
export interface Checkpoint {
  /** Its directory, `dir/step-<n>`. */
  readonly path: string
  /** Its step. */
  readonly step: number
  /** Its manifest. */
  readonly manifest: Manifest
}

/** How {@link writeCheckpoint} keeps checkpoints. */
export interface CheckpointOptions {
  /** Keep only the newest `keep` checkpoints (default: all). */
  readonly keep?: number
  /** `fsync` every file before the rename, so the checkpoint survives a machine crash too (default true). */
  readonly durable?: boolean
}

/** The collectives {@link writeCheckpoint} needs of a communicator. */
export type CheckpointComm = WriteComm & Pick<Comm, "size">

const STEP_DIGITS = 9
const COMPLETE = /^step-(\d+)$/
const MANIFEST = "manifest.json"

/** The directory name of step `step`'s checkpoint (`step-000000120`). */
export const stepName = (step: number): string => `step-${String(step).padStart(STEP_DIGITS, "0")}`

/** The files of a field's time levels: `u.npy`, then `u.prev.npy`. */
const filesOf = (name: string, levels: number): string[] => (levels === 2 ? [`${name}.npy`, `${name}.prev.npy`] : [`${name}.npy`])

/** JSON keeps a double exactly except NaN, ±Infinity (null) and -0 (0): those are written as `{ "$number": "…" }`. */
const SPECIAL = "$number"
function encodeExtra(_key: string, value: unknown): unknown {
  if (typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))) return { [SPECIAL]: Object.is(value, -0) ? "-0" : String(value) }
  if (typeof value === "bigint") throw new TypeError(`a bigint (${value}n) is not JSON`)
  return value
}
function decodeExtra(_key: string, value: unknown): unknown {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value)
    const special = (value as Record<string, unknown>)[SPECIAL]
    if (keys.length === 1 && typeof special === "string") return special === "-0" ? -0 : Number(special)
  }
  return value
}

/** The extra state as stored: a JSON value decoded back exactly, or an InvalidArgument naming why it cannot be stored. */
function storableExtra(extra: unknown): unknown {
  try {
    const text = JSON.stringify(extra, encodeExtra)
    return text === undefined ? undefined : (JSON.parse(text) as unknown)
  } catch (e) {
    throw new InvalidArgument("writeCheckpoint", "extra", typeof extra, `must be JSON data (${(e as Error).message})`)
  }
}

function checkState(step: number, state: CheckpointState): void {
  if (!Number.isSafeInteger(step) || step < 0) throw new InvalidArgument("writeCheckpoint", "step", step, "must be a non-negative integer")
  const seen = new Set<string>()
  for (const f of state.fields) {
    if (!/^[A-Za-z_$][\w$]*$/.test(f.name)) throw new InvalidArgument("writeCheckpoint", "field name", f.name, "must be a JavaScript identifier (it names the field's files)")
    if (seen.has(f.name)) throw new InvalidArgument("writeCheckpoint", "field name", f.name, "appears twice")
    seen.add(f.name)
  }
}

/**
 * Rank 0 runs `work`; its outcome (an error's message, or null) is
 * broadcast, so every rank throws the same error or goes on together.
 */
function onRankZero(comm: WriteComm, dir: string, work: () => void): void {
  let failure: string | null = null
  if (comm.rank === 0) {
    try {
      work()
    } catch (e) {
      failure = (e as Error).message
    }
  }
  failure = comm.bcast(failure, 0)
  if (failure !== null) throw new FieldFileError(dir, "write", "a checkpoint rank 0 can write", `rank 0: ${failure}`)
}

/**
 * Writes a checkpoint of `state` at `step` into `dir/step-<n>/`, atomically.
 * Collective: every rank of `comm` calls it with its own blocks. Returns
 * once the checkpoint is complete on disk (on every rank). Removes
 * incomplete `.tmp` checkpoints left by a crash, and with `keep` all but
 * the newest `keep` checkpoints. Writing a step that exists replaces it.
 *
 * @throws FieldFileError `write` (on every rank) when a file cannot be
 * written; InvalidArgument for a bad step, field name or extra state.
 *
 * @example
 * ```ts
 * // internal to the executor: imported from the source tree
 * import { blockRange, init } from "rankflow"
 * import { latestCheckpoint, readCheckpoint, writeCheckpoint } from "../../src/pipeline/checkpoint.ts"
 * import { rmSync } from "node:fs"
 * import { tmpdir } from "node:os"
 * import { join } from "node:path"
 * const comm = await init()
 * const dir = join(tmpdir(), `rankflow-checkpoints-${process.pid}`)
 * const [first, end] = blockRange(10, comm.size, comm.rank)
 * const blocks = [{ start: [first], count: [end - first] }]
 * const u = Float64Array.from({ length: end - first }, (_, i) => (first + i) / 10)
 * for (const step of [100, 200]) {
 *   writeCheckpoint(dir, step, { shape: [10], blocks, fields: [{ name: "u", type: "float64", current: [u] }], extra: { measure: 0.5 } }, comm, { keep: 1 })
 * }
 * console.log(latestCheckpoint(dir)?.step) // 200
 * // a restart on any rank count reads its own blocks back
 * const restored = readCheckpoint(dir, { shape: [10], fields: [{ name: "u", type: "float64" }] }, blocks)
 * console.log(restored.step, restored.fields.u?.current[0]?.[0] === u[0]) // 200 true
 * comm.barrier()
 * if (comm.rank === 0) rmSync(dir, { recursive: true })
 * ```
 */
export function writeCheckpoint(dir: string, step: number, state: CheckpointState, comm: CheckpointComm, options: CheckpointOptions = {}): Checkpoint {
  checkState(step, state)
  if (options.keep !== undefined && !(Number.isInteger(options.keep) && options.keep >= 1))
    throw new InvalidArgument("writeCheckpoint", "keep", options.keep, "must be an integer ≥ 1 (the newest checkpoints kept)")
  const extra = storableExtra(state.extra) // every rank checks it, before any collective
  const name = stepName(step)
  const tmp = join(dir, `${name}.tmp`)
  const final = join(dir, name)
  const durable = options.durable ?? true
  onRankZero(comm, dir, () => {
    mkdirSync(dir, { recursive: true })
    removeIncomplete(dir)
    mkdirSync(tmp)
  })
  const fields: ManifestField[] = state.fields.map((f) => {
    const levels = f.previous === undefined ? [f.current] : [f.current, f.previous]
    const files = filesOf(f.name, levels.length)
    levels.forEach((datas, i) => writeBlocks(join(tmp, files[i]!), { shape: state.shape, type: f.type }, state.blocks, datas, comm, { durable }))
    return { name: f.name, type: f.type, files }
  })
  const manifest: Manifest = {
    format: "rankflow-checkpoint",
    formatVersion: 1,
    rankflow: rankflowVersion(),
    step,
    shape: [...state.shape],
    fields,
    ranks: comm.size,
    ...(extra === undefined ? {} : { extra }),
  }
  onRankZero(comm, dir, () => {
    writeDurably(join(tmp, MANIFEST), JSON.stringify(manifest, encodeExtra, 2) + "\n", durable)
    if (exists(final)) {
      const replaced = join(dir, `${name}.replaced.tmp`)
      renameSync(final, replaced)
      renameSync(tmp, final)
      rmSync(replaced, { recursive: true, force: true })
    } else renameSync(tmp, final)
    if (durable) syncDirectory(dir)
    if (options.keep !== undefined) for (const old of stepDirectories(dir).slice(0, -options.keep)) rmSync(old.path, { recursive: true, force: true })
  })
  return { path: final, step, manifest: JSON.parse(JSON.stringify(manifest, encodeExtra), decodeExtra) as Manifest }
}

const exists = (path: string): boolean => {
  try {
    statSync(path)
    return true
  } catch {
    return false
  }
}

function writeDurably(path: string, text: string, durable: boolean): void {
  const fd = openSync(path, "w")
  try {
    writeSync(fd, text)
    if (durable) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** fsync a directory so a rename in it is on disk (ignored where the platform refuses). */
function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, "r")
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // some platforms cannot fsync a directory; the rename itself is still atomic
  }
}

/** Removes every `step-….tmp` entry of `dir` (checkpoints a crash left incomplete). */
function removeIncomplete(dir: string): void {
  for (const entry of readdirSync(dir)) if (/^step-\d+\..*tmp$/.test(entry)) rmSync(join(dir, entry), { recursive: true, force: true })
}

function readManifest(path: string): Manifest {
  let manifest: Manifest
  try {
    manifest = JSON.parse(readFileSync(join(path, MANIFEST), "utf8"), decodeExtra) as Manifest
  } catch (e) {
    throw new CheckpointError(path, "corrupt", [`${MANIFEST}: ${(e as Error).message}`])
  }
  if (manifest.format !== "rankflow-checkpoint" || manifest.formatVersion !== 1 || !Array.isArray(manifest.shape) || !Array.isArray(manifest.fields))
    throw new CheckpointError(path, "corrupt", [`${MANIFEST} is not a rankflow checkpoint manifest of format version 1`])
  return manifest
}

/**
 * The complete checkpoints in `dir`, oldest first (none when `dir` does not
 * exist). Incomplete `.tmp` directories are not listed.
 *
 * @throws CheckpointError `corrupt` when a complete checkpoint's manifest is unreadable.
 */
export function listCheckpoints(dir: string): Checkpoint[] {
  return stepDirectories(dir).map(({ path, step }) => ({ path, step, manifest: readManifest(path) }))
}

/** The `step-<n>` directories of `dir` (complete checkpoints), oldest first, without reading their manifests. */
function stepDirectories(dir: string): Array<{ path: string; step: number }> {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return []
  }
  return entries
    .map((entry) => ({ entry, match: COMPLETE.exec(entry) }))
    .filter(({ entry, match }) => match !== null && statSync(join(dir, entry)).isDirectory())
    .map(({ entry, match }) => ({ path: join(dir, entry), step: Number(match![1]) }))
    .sort((a, b) => a.step - b.step)
}

/**
 * The newest complete checkpoint in `dir`, or undefined when there is none
 * (a `.tmp` directory a crash left behind is not one).
 *
 * @throws CheckpointError `corrupt` when its manifest is unreadable.
 */
export function latestCheckpoint(dir: string): Checkpoint | undefined {
  const newest = stepDirectories(dir).at(-1)
  return newest === undefined ? undefined : { ...newest, manifest: readManifest(newest.path) }
}

/** A field the pipeline expects to restore: name, type, and whether it keeps a previous level. */
export interface ExpectedField {
  /** The field's name. */
  readonly name: string
  /** Its element type. */
  readonly type: ElementType
  /** Whether the field has a previous time level to restore too. */
  readonly previous?: boolean
}

/** What the pipeline expects a checkpoint to hold. */
export interface ExpectedState {
  /** The global grid shape. */
  readonly shape: ReadonlyArray<number>
  /** The fields, in any order. */
  readonly fields: ReadonlyArray<ExpectedField>
}

/** One field's levels read back: an array per block. */
export interface RestoredField {
  /** The current level, one row-major interior array per block. */
  readonly current: ElementArray[]
  /** The previous level, when the field has one. */
  readonly previous?: ElementArray[]
}

/** A checkpoint read back on this thread's blocks. */
export interface RestoredState {
  /** The checkpoint read. */
  readonly checkpoint: Checkpoint
  /** The step to continue from. */
  readonly step: number
  /** Each field's blocks, by name. */
  readonly fields: Readonly<Record<string, RestoredField>>
  /** The extra state saved with it, if any. */
  readonly extra?: unknown
}

const showShape = (shape: ReadonlyArray<number>): string => `[${shape.join(", ")}]`

/** Every difference between a checkpoint's manifest and what the pipeline expects, in words. */
export function manifestDifferences(manifest: Manifest, expected: ExpectedState): string[] {
  const differences: string[] = []
  if (manifest.shape.length !== expected.shape.length || manifest.shape.some((n, d) => n !== expected.shape[d]))
    differences.push(`grid ${showShape(manifest.shape)} in the checkpoint, ${showShape(expected.shape)} in the pipeline`)
  const saved = new Map(manifest.fields.map((f) => [f.name, f]))
  for (const f of expected.fields) {
    const s = saved.get(f.name)
    if (s === undefined) differences.push(`field ${f.name} is not in the checkpoint (it holds ${manifest.fields.map((m) => m.name).join(", ") || "no field"})`)
    else {
      if (s.type !== f.type) differences.push(`field ${f.name} is ${s.type} in the checkpoint, ${f.type} in the pipeline`)
      const levels = f.previous === true ? 2 : 1
      if (s.files.length !== levels)
        differences.push(`field ${f.name} has ${s.files.length === 2 ? "a previous level" : "no previous level"} in the checkpoint, ${levels === 2 ? "one" : "none"} in the pipeline`)
    }
  }
  const wanted = new Set(expected.fields.map((f) => f.name))
  for (const s of manifest.fields) if (!wanted.has(s.name)) differences.push(`field ${s.name} is in the checkpoint but not in the pipeline`)
  return differences
}

/**
 * Reads this thread's `blocks` of every field from the newest complete
 * checkpoint in `dir` (or the one at `options.step`), after checking its
 * manifest against `expected`. Not collective: each rank reads its blocks,
 * whatever the rank count that wrote the checkpoint.
 *
 * @throws CheckpointError `none` when `dir` holds no complete checkpoint
 * (or none at `options.step`), `mismatch` naming every difference of grid,
 * fields, types and time levels; FieldFileError when a field's file is
 * damaged.
 */
export function readCheckpoint(dir: string, expected: ExpectedState, blocks: ReadonlyArray<BlockRegion>, options: { readonly step?: number } = {}): RestoredState {
  const all = stepDirectories(dir) // only the chosen checkpoint's manifest is read
  const chosen = options.step === undefined ? all.at(-1) : all.find((c) => c.step === options.step)
  if (chosen === undefined) {
    const incomplete = exists(dir) ? readdirSync(dir).filter((e) => /^step-\d+\..*tmp$/.test(e)).length : 0
    const reasons = [
      options.step === undefined ? `no step-<n> directory with a ${MANIFEST}` : `no checkpoint at step ${options.step} (steps: ${all.map((c) => c.step).join(", ") || "none"})`,
      ...(incomplete > 0 ? [`${incomplete} incomplete .tmp checkpoint(s) ignored`] : []),
      ...(exists(dir) ? [] : ["the directory does not exist"]),
    ]
    throw new CheckpointError(dir, "none", reasons)
  }
  const checkpoint: Checkpoint = { ...chosen, manifest: readManifest(chosen.path) }
  const differences = manifestDifferences(checkpoint.manifest, expected)
  if (differences.length > 0) throw new CheckpointError(checkpoint.path, "mismatch", differences)
  const fields: Record<string, RestoredField> = {}
  for (const f of checkpoint.manifest.fields) {
    const spec = { shape: checkpoint.manifest.shape, type: f.type }
    const [current, previous] = f.files.map((file) => readBlocks(join(checkpoint.path, file), spec, blocks))
    fields[f.name] = previous === undefined ? { current: current! } : { current: current!, previous }
  }
  const { extra } = checkpoint.manifest
  return { checkpoint, step: checkpoint.step, fields, ...(extra === undefined ? {} : { extra }) }
}
