// trapezoid benchmark: serial-js on the main thread, comm on each rank count.
//   tsx bench/trapezoid.ts [--quick] [--ranks 1,2,4,8] [--impl serial-js,comm] [--reps 3]
import { runWorkload } from "./workloads/harness.ts"
import { trapezoid } from "./workloads/trapezoid.ts"

await runWorkload(trapezoid)
