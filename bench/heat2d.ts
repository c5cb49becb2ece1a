// heat2d benchmark: serial-js on the main thread, comm on each rank count.
//   tsx bench/heat2d.ts [--quick] [--ranks 1,2,4,8] [--impl serial-js,comm] [--reps 3]
import { runWorkload } from "./workloads/harness.ts"
import { heat2d } from "./workloads/heat2d.ts"

await runWorkload(heat2d)
