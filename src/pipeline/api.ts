/**
 * The `Pipeline` namespace users import: builders (`distribute`), the
 * planner and runners (`plan`, `run`, `runWithStats`) and the program entry
 * (`program`, `main`), beside the `Pipeline<R>` type of a finished pipeline.
 *
 * Layer: pipeline.
 */
import { main, program } from "./main.ts"
import { distribute, fromFile, plan, prepare, run, runWithStats, type Pipeline as PipelineOf } from "./pipeline.ts"

/** A complete pipeline whose result has type R. */
export type Pipeline<R> = PipelineOf<R>

/** `Pipeline.distribute(…)`, `Pipeline.plan(p, ranks)`, `Pipeline.run(p, comm)`, `Pipeline.prepare(p, comm)`, `Pipeline.main(p)`. */
export const Pipeline = { distribute, fromFile, plan, run, runWithStats, prepare, program, main } as const
