/**
 * This host's cache sizes for the planner's temporal blocking: the
 * environment's RANKFLOW_CACHE when set (`l2=2M` or `l1=48K,l2=2M`: for hosts
 * that hide /sys, and to give every host of a multi-host job the same plan),
 * else read once from /sys/devices/system/cpu/cpu0/cache (Linux), else
 * DEFAULT_CACHE.
 *
 * Layer: pipeline.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { InvalidArgument } from "../errors.ts"
import { type CacheSizes, DEFAULT_CACHE } from "../plan/temporalBlocking.ts"

const SYS = "/sys/devices/system/cpu/cpu0/cache"

/** "48K", "2048K", "1M" → bytes (undefined for anything else). */
export function parseCacheSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([KMG]?)\s*$/i.exec(text)
  if (m === null) return undefined
  const scale = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as "" | "K" | "M" | "G"]
  const bytes = Number(m[1]) * scale
  return bytes > 0 ? bytes : undefined
}

/** The L1 data and L2 sizes listed under `dir` (a cpuN/cache directory), each falling back to DEFAULT_CACHE's. */
export function readCacheSizes(dir: string = SYS): CacheSizes {
  let l1: number | undefined
  let l2: number | undefined
  try {
    for (const entry of readdirSync(dir)) {
      if (!entry.startsWith("index")) continue
      const read = (f: string) => readFileSync(join(dir, entry, f), "utf8").trim()
      const level = read("level")
      const type = read("type")
      const size = parseCacheSize(read("size"))
      if (level === "1" && type !== "Instruction") l1 = size ?? l1
      if (level === "2" && type !== "Instruction") l2 = size ?? l2
    }
  } catch {
    // No /sys here (or no permission): the defaults.
  }
  return { l1: l1 ?? DEFAULT_CACHE.l1, l2: l2 ?? DEFAULT_CACHE.l2 }
}

/** RANKFLOW_CACHE's sizes (`l1=48K,l2=2M`, either part optional, the other from `fallback`); throws InvalidArgument naming what is wrong. */
export function parseCacheSetting(text: string, fallback: CacheSizes): CacheSizes {
  const sizes: { l1: number; l2: number } = { ...fallback }
  for (const part of text.split(",")) {
    const [key, value, extra] = part.split("=").map((x) => x.trim())
    const bytes = value === undefined ? undefined : parseCacheSize(value)
    if ((key !== "l1" && key !== "l2") || bytes === undefined || extra !== undefined) throw new InvalidArgument("RANKFLOW_CACHE", "cache sizes", text, 'must be like "l2=2M" or "l1=48K,l2=2M" (sizes in bytes, K, M or G)')
    sizes[key] = bytes
  }
  return sizes
}

let cached: CacheSizes | undefined
/** This host's cache sizes (sysfs read once per thread; RANKFLOW_CACHE looked at on every call, so a program may set it before planning). */
export function hostCache(): CacheSizes {
  const setting = process.env.RANKFLOW_CACHE
  const host = (cached ??= readCacheSizes())
  return setting === undefined || setting === "" ? host : parseCacheSetting(setting, host)
}
