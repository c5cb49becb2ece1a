// Hello world on every rank (seed §2): `tsx examples/hello.ts --ranks 4`
import { hostname } from "node:os"
import { init } from "rankflow"

const comm = await init()
console.log(`Hello from rank ${comm.rank} of ${comm.size} processes on host ${hostname()}`)
