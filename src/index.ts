/**
 * rankflow's public API. Everything a rank needs is imported eagerly and is
 * light; the supervisor (Effect, CLI) is loaded only on the main thread.
 *
 * Data-parallel programs on worker-thread ranks: `init()` and the
 * communicator (`Comm`, mpi4py's vocabulary), declarative pipelines
 * (`Pipeline`, `Grid`, `Range`) and patterns (`managerWorker`, `Stream`).
 * The guide is docs/guide.md; docs/mpi4py.md maps mpi4py's calls to these.
 *
 * @packageDocumentation
 */
export { init, initWithParams, isRank, positionals } from "./runtime/init.ts"
export { runRanks, type RunRanksOptions } from "./runtime/runRanks.ts"
export { Comm, ANY_SOURCE, ANY_TAG, PROC_NULL, UNDEFINED, TAG_UB, IN_PLACE, type RecvBuffer, type Sendable } from "./comm/comm.ts"
export { CartComm, type Shift } from "./comm/cart.ts"
export { computeDims } from "./comm/dims.ts"
export { decompose } from "./plan/decompose.ts"
export { blockRange, blockCounts, displacements } from "./comm/partition.ts"
export {
  SUM,
  PROD,
  MAX,
  MIN,
  LAND,
  LOR,
  BAND,
  BOR,
  MAXLOC,
  MINLOC,
  REPLACE,
  NO_OP,
  type WindowOp,
  type ElementwiseOp,
  type LocOp,
  type Loc,
  type ReduceOp,
} from "./comm/ops.ts"
export {
  Request,
  PersistentRequest,
  REQUEST_NULL,
  waitAll,
  testAll,
  waitAny,
  testAny,
  waitSome,
  testSome,
  startAll,
  type AnyCompleted,
  type AnyTested,
  type SomeCompleted,
} from "./comm/request.ts"
export { Status } from "./comm/status.ts"
export type { TypedArray } from "./transport/ring.ts"
export {
  RankflowError,
  isRankflowError,
  InvalidArgument,
  InvalidOptions,
  RecvTruncated,
  RecvTypeMismatch,
  NotSerializable,
  MessageTooLarge,
  RankAborted,
  RankFailed,
  RankExited,
  JobTimeout,
  CollectiveMismatch,
  DeadlockDetected,
  CommTimeout,
  ReduceTypeMismatch,
  type CollectiveCall,
  type BlockedRank,
  type RankFailure,
} from "./errors.ts"
export { Pipeline } from "./pipeline/api.ts"
export { managerWorker, type FarmOptions, type FarmResult, type TaskContext } from "./patterns/managerWorker.ts"
export { Stream, type StageOptions, type StreamOptions, type StreamLayout } from "./patterns/stream.ts"
export { poolExecutor, PoolExecutor, type TaskFunctions } from "./patterns/poolExecutor.ts"
export { TaskFailed } from "./errors.ts"
export type { Field, FieldBody, Fields, FieldsBody, FieldDecl, FieldOptions, FieldsMapOptions, FileData, InitialValues, Outputs, ShapeOfDecls, PrevOfDecls, ArrayOfDecl, Chunks, Items, Ranged, InitFor, LoopOptions, UntilOptions, DistributeOptions, OpFor } from "./pipeline/pipeline.ts"
export type { Program, ProgramSpec, BuildContext } from "./pipeline/main.ts"
export { fingerprint } from "./pipeline/summary.ts"
export { plotSvg, writePlot, type PlotGrid, type PlotOptions } from "./pipeline/plot.ts"
export type { Outcome, Prepared, ExecuteOptions } from "./pipeline/execute.ts"
export { randomStream, RandomStream } from "./pipeline/random.ts"
export * as Grid from "./plan/grid.ts"
export * as Range from "./plan/range.ts"
export * as Param from "./cli/paramSpec.ts"
export { explain, explainJson } from "./plan/explain.ts"
export { Stencil, type LinearStencil, type LinearOptions, type LinearTerm } from "./plan/linearStencil.ts"
export { StencilKernels, type WindowShape, type WindowRun } from "./kernels/stencil.ts"
export { temporalBlocking, type TemporalBlocking, type BlockingInput, type CacheSizes } from "./plan/temporalBlocking.ts"
export type { Plan, PlannedStage, MessageSpec } from "./plan/plan.ts"
export type { Block, BlockGeometry, FieldsBlock, Levels, ElementType, FieldArray, ArrayOf, Shape, View, PointFn, FieldsStencilOptions, Chunk, NumberOp, Stability, StencilOptions, Stencil1, Stencil2, Stencil3, StencilFor, Every } from "./plan/description.ts"
export { GridTooSmall, InvalidPipeline, UnstableScheme, StencilMisread, StencilOutOfRadius, FieldDataMismatch, StaleGhosts, type StabilityKind } from "./errors.ts"
export { ParamNameConflict, ResourceLimit, GridTooLarge } from "./errors.ts"
export { JobAborted, RankOutOfMemory } from "./errors.ts"
export { readNpy, writeNpy, readNpyHeader, type ElementArray, type NpyArray, type NpyHeader } from "./pipeline/npy.ts"
export { FieldFileError, CheckpointError, type FieldFileProblem, type CheckpointProblem } from "./errors.ts"
export { MeasureNotFinite, FieldNotFinite, ReduceResultNotNumber } from "./errors.ts"
export * as Dense from "./kernels/dense.ts"
export { DenseShapeMismatch } from "./errors.ts"
export { DashboardUnavailable } from "./errors.ts"
export { MpiUnavailable } from "./errors.ts"
