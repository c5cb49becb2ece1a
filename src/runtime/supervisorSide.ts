/**
 * Everything the main thread of a program needs before ranks start — the
 * supervisor, option and parameter decoding — in one module, so it can be
 * bundled with the packages it loads (Effect, rxjs) into one file that the
 * main thread imports (see `loadSupervisor.ts`).
 *
 * Layer: runtime (supervisor side).
 */
export { superviseMain } from "./main.ts"
export { decodeParams, paramOptions, paramUsage } from "../cli/params.ts"
export { decodePositiveInt } from "../cli/options.ts"
