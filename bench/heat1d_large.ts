// heat1d_large benchmark: serial-js on the main thread, comm on each rank count.
//   tsx bench/heat1d_large.ts [--quick] [--ranks 1,2,4,8] [--impl serial-js,comm] [--reps 3]
import { runWorkload } from "./workloads/harness.ts"
import { heat1dLarge } from "./workloads/heat1d.ts"

await runWorkload(heat1dLarge)
