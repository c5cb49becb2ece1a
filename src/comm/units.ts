/**
 * Byte counts for people: `explain` and the `--trace` report print sizes the
 * same way. Pure (the planner may use it).
 *
 * Layer: comm.
 */

/** `n` bytes in B, KiB, MiB or GiB, one decimal above bytes. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [["GiB", 2 ** 30], ["MiB", 2 ** 20], ["KiB", 2 ** 10]] as const) if (n >= size) return `${(n / size).toFixed(1)} ${unit}`
  return `${n} B`
}
