import { runRanks } from "rankflow"
const mod = new URL("./test/fixtures/collectives.ts", import.meta.url)
for (const n of [1, 3, 4]) {
  console.log(n, JSON.stringify(await runRanks({ ranks: n, module: mod, export: "moveData", args: 10 })))
  console.log(n, JSON.stringify(await runRanks({ ranks: n, module: mod, export: "reductions" })))
  console.log(n, JSON.stringify(await runRanks({ ranks: n, module: mod, export: "nonblocking" })))
  console.log(n, JSON.stringify(await runRanks({ ranks: n, module: mod, export: "allreduceBits", args: { n: 1 << 20, integers: true } })))
}
