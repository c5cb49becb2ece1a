// matvec benchmark: serial-js on the main thread, comm on each rank count.
//   tsx bench/matvec.ts [--quick] [--ranks 1,2,4,8] [--impl serial-js,comm] [--reps 3]
import { runWorkload } from "./workloads/harness.ts"
import { matvec } from "./workloads/matvec.ts"

await runWorkload(matvec)
