// pi_mc benchmark: serial-js on the main thread, comm on each rank count.
//   tsx bench/pi_mc.ts [--quick] [--ranks 1,2,4,8] [--impl serial-js,comm] [--reps 3]
import { runWorkload } from "./workloads/harness.ts"
import { piMc } from "./workloads/pi_mc.ts"

await runWorkload(piMc)
