// matmul benchmark: serial-js and serial-c on the main thread, kernels on each rank count.
//   tsx bench/matmul.ts [--quick] [--ranks 1,2,4,8] [--impl serial-js,serial-c,kernels] [--reps 3]
import { runWorkload } from "./workloads/harness.ts"
import { matmul } from "./workloads/matmul.ts"

await runWorkload(matmul)
