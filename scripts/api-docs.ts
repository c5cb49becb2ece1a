/**
 * The API reference, generated from the TSDoc of src/index.ts's exports:
 * declarations emitted by the project's own compiler (tsc 7), read by
 * api-extractor (which bundles its own TypeScript 6 compiler API — TypeDoc
 * needs the JS compiler API that typescript@7 no longer ships, and caps its
 * peer range at 6.0), written out as markdown by api-documenter.
 *
 * `npm run docs` writes docs/api/ (generated, not committed);
 * test/apidocs.test.ts builds it into a temporary folder and fails on any
 * warning or undocumented export.
 *
 * Usage: tsx scripts/api-docs.ts [output folder, default docs/api]
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Extractor, ExtractorConfig, ExtractorLogLevel } from "@microsoft/api-extractor"

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const BIN = join(ROOT, "node_modules/.bin")

/** What a build found: api-extractor's warnings and the exports without a doc comment. */
export interface ApiDocsReport {
  /** api-extractor and TSDoc-parser messages at warning level or above, one line each. */
  readonly warnings: string[]
  /** Exported items (and members of exported classes and interfaces, when `members` is set) with no doc comment. */
  readonly undocumented: string[]
  /** The names of the entry point's exports, as the reference lists them. */
  readonly exports: string[]
  /** Markdown files written. */
  readonly pages: number
}

interface ApiItem {
  kind: string
  name?: string
  docComment?: string
  members?: ApiItem[]
}

/** Kinds whose doc comment is required: the exports themselves and what hangs off them. */
const MEMBER_KINDS = new Set(["Property", "PropertySignature", "Method", "MethodSignature"])

/**
 * `export * as Grid from "./plan/grid.ts"` carries no doc comment of its own
 * (api-extractor leaves such namespaces blank), so the namespace takes the
 * opening doc comment of its module, without the "Layer:" note.
 */
function namespaceDocs(): Map<string, string> {
  const index = readFileSync(join(ROOT, "src/index.ts"), "utf8")
  const docs = new Map<string, string>()
  for (const [, name, path] of index.matchAll(/export \* as (\w+) from "(\.[^"]+)"/g)) {
    const text = readFileSync(join(ROOT, "src", path!), "utf8")
    const opening = /^\/\*\*[\s\S]*?\*\//.exec(text)?.[0]
    if (opening === undefined) continue
    docs.set(name!, opening.replace(/\n \*\s*Layer:.*$/m, "").replace(/\n \*\n \*\//, "\n */"))
  }
  return docs
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? declarationFiles(join(dir, e.name)) : e.name.endsWith(".d.ts") ? [join(dir, e.name)] : [],
  )
}

/**
 * A namespace object — `export const Pipeline = { distribute, plan, … }` —
 * reaches api-extractor as a variable whose members are `typeof distribute`,
 * with the functions' own documentation lost. In the scratch declarations,
 * each such object becomes `export * as Pipeline from "./api.namespace.ts"`, a
 * module re-exporting the functions: the reference then gets a page per
 * function, with its doc comment and example, under the name users call it
 * by (`Pipeline.run`). The object's own doc comment is returned for the
 * namespace. Users' code is unchanged: this touches only the scratch copy.
 */
function namespaceObjects(dts: string): Map<string, string> {
  const docs = new Map<string, string>()
  for (const file of declarationFiles(dts)) {
    let text = readFileSync(file, "utf8")
    const objects = [...text.matchAll(/(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n)?export declare const (\w+): \{\n((?:\s+readonly \w+: typeof \w+;\n)+)\};\n/g)]
    for (const [whole, doc, name, body] of objects) {
      const members = [...body!.matchAll(/readonly (\w+): typeof (\w+);/g)]
      if (members.some(([, key, value]) => key !== value)) continue // renamed members: leave the object as it is
      const from = new Map<string, string[]>()
      for (const [, member] of members) {
        const source = new RegExp(`^import \\{[^}]*\\b${member}\\b[^}]*\\} from "([^"]+)";$`, "m").exec(text)?.[1]
        if (source === undefined) throw new Error(`${file}: where ${name}.${member} comes from`)
        from.set(source, [...(from.get(source) ?? []), member!])
      }
      const base = file.slice(0, -".d.ts".length)
      const namespaceFile = `${base}.${name}.namespace.d.ts`
      writeFileSync(namespaceFile, [...from].map(([source, names]) => `export { ${names.join(", ")} } from "${source}";\n`).join(""))
      const relative = `./${namespaceFile.slice(dirname(file).length + 1, -".d.ts".length)}.ts`
      text = text.replace(whole, `export * as ${name} from "${relative}";\n`)
      // A type of the same name (`Pipeline<R>`) is hidden by the namespace in api-extractor's model: its doc joins the namespace's.
      const type = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\nexport type ${name}(<[^=]*>)? =`).exec(text)
      const typeNote = type === null ? "" : `\n *\n * The type \`${name}${type[2] ?? ""}\`: ${type[1]!.replace(/\n\s*\*\s?/g, " ").trim()}`
      if (doc !== undefined) docs.set(name!, doc.trimEnd().replace(/\s*\*\/$/, `${typeNote}\n */`))
    }
    if (objects.length > 0) writeFileSync(file, text)
  }
  return docs
}

/**
 * Members added by module augmentation — `declare module "./comm.ts" {
 * interface Comm { cart(…) } }` in cart.ts — are not merged into the class
 * by api-extractor, so `comm.cart` had no page. In the scratch declarations
 * they move into the class itself, which imports the augmenting module's
 * exports as types.
 */
function mergeAugmentations(dts: string): void {
  for (const file of declarationFiles(dts)) {
    let text = readFileSync(file, "utf8")
    const blocks = [...text.matchAll(/declare module "(\.[^"]+)" \{\n {4}interface (\w+) \{\n([\s\S]*?)\n {4}\}\n\}\n/g)]
    if (blocks.length === 0) continue
    const names = [...text.matchAll(/^export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|enum) (\w+)/gm)].map((m) => m[1]!)
    const self = `./${file.slice(dirname(file).length + 1, -".d.ts".length)}.ts`
    for (const [whole, spec, name, body] of blocks) {
      const target = join(dirname(file), spec!.replace(/\.ts$/, ".d.ts"))
      let targetText = readFileSync(target, "utf8")
      const at = new RegExp(`^export declare (?:abstract )?class ${name}\\b[^\\n]*\\{\\n`, "m").exec(targetText)
      if (at === null) throw new Error(`${target}: no class ${name} for the augmentation in ${file}`)
      const members = body!.replace(/^ {4}/gm, "") + "\n"
      const end = at.index + at[0].length
      // The import goes first: between the class and its doc comment it would cost the class its doc.
      targetText = `import type { ${names.join(", ")} } from "${self}";\n${targetText.slice(0, end)}${members}${targetText.slice(end)}`
      writeFileSync(target, targetText)
      text = text.replace(whole, "")
    }
    writeFileSync(file, text)
  }
}

/**
 * api-extractor renames an export whose name a global also has (`Request`,
 * from the fetch API in @types/node) to `Request_2`; the package exports it as
 * `Request`, so the model says so again.
 */
function unrenamed(json: string): string {
  const index = readFileSync(join(ROOT, "src/index.ts"), "utf8")
  for (const [, renamed, name] of json.matchAll(/"name": "((\w+)_\d+)"/g))
    if (new RegExp(`\\b${name}\\b`).test(index)) json = json.replaceAll(new RegExp(`\\b${renamed}\\b`, "g"), name!)
  return json
}

const documented = (item: ApiItem): boolean => (item.docComment ?? "").trim() !== ""

/**
 * Collects the undocumented items. Not required: constructors (the class says
 * how to make one), `_tag` discriminants (literal types, documented once on
 * RankflowError), and an overload when a sibling overload of the same name is
 * documented (the reference shows them side by side).
 */
function walk(items: ApiItem[] | undefined, path: string[], members: boolean, out: string[]): void {
  for (const item of items ?? []) {
    const here = [...path, item.name ?? item.kind]
    const isMember = MEMBER_KINDS.has(item.kind) && path.length > 0
    const overloadDocumented = (items ?? []).some((o) => o !== item && o.kind === item.kind && o.name === item.name && documented(o))
    const required = (!isMember || members) && item.kind !== "Constructor" && item.name !== "_tag" && !overloadDocumented
    if (required && !documented(item)) out.push(`${item.kind} ${here.join(".")}`)
    walk(item.members, here, members, out)
  }
}

/**
 * Builds the reference into `outDir` (markdown), with scratch files in
 * `workDir`. `members`: also require a doc comment on every property and method
 * of an exported class or interface.
 */
export function buildApiDocs(outDir: string, workDir: string, members = false): ApiDocsReport {
  rmSync(workDir, { recursive: true, force: true })
  const dts = join(workDir, "dts")
  const model = join(workDir, "model")
  mkdirSync(model, { recursive: true })
  const warnings: string[] = []
  try {
    execFileSync(join(BIN, "tsc"), ["-p", join(ROOT, "tsconfig.build.json"), "--declaration", "--emitDeclarationOnly", "--stripInternal", "--outDir", dts], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    })
  } catch (error) {
    // Type errors: tsc still writes the declarations; report the errors as warnings and go on.
    const output = String((error as { stdout?: unknown }).stdout ?? error)
    warnings.push(...output.split("\n").filter((line) => line.includes("error TS")).slice(0, 10).map((line) => `tsc: ${line}`))
    if (warnings.length === 0) warnings.push(`tsc failed: ${output.slice(0, 500)}`)
  }

  const objectDocs = namespaceObjects(dts)
  mergeAugmentations(dts)

  const configPath = join(ROOT, "api-extractor.json")
  const configObject = ExtractorConfig.loadFile(configPath)
  configObject.mainEntryPointFilePath = join(dts, "index.d.ts")
  configObject.docModel = { enabled: true, apiJsonFilePath: join(model, "rankflow.api.json") }
  configObject.compiler = {
    overrideTsconfig: { ...configObject.compiler?.overrideTsconfig, include: [dts] },
  }
  const config = ExtractorConfig.prepare({
    configObject,
    configObjectFullPath: configPath,
    packageJsonFullPath: join(ROOT, "package.json"),
  })
  const result = Extractor.invoke(config, {
    localBuild: true,
    messageCallback: (message) => {
      if (message.logLevel === ExtractorLogLevel.Warning || message.logLevel === ExtractorLogLevel.Error)
        warnings.push(message.formatMessageWithLocation(dts + "/").replace(/\s+/g, " "))
      message.handled = true
    },
  })
  if (!result.succeeded && warnings.length === 0) warnings.push("api-extractor failed")

  const apiJson = join(model, "rankflow.api.json")
  const doc = JSON.parse(unrenamed(readFileSync(apiJson, "utf8"))) as ApiItem
  const entry = doc.members![0]!
  const nsDocs = new Map([...namespaceDocs(), ...objectDocs])
  for (const item of entry.members ?? [])
    if (item.kind === "Namespace" && !item.docComment) item.docComment = nsDocs.get(item.name!) ?? ""
  writeFileSync(apiJson, JSON.stringify(doc, null, 2))
  const undocumented: string[] = []
  walk(entry.members, [], members, undocumented)

  rmSync(outDir, { recursive: true, force: true })
  execFileSync(join(BIN, "api-documenter"), ["markdown", "--input-folder", model, "--output-folder", outDir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  })
  // api-documenter writes CRLF line ends; the repository's files are LF.
  const pages = readdirSync(outDir).filter((name) => name.endsWith(".md"))
  for (const name of pages) writeFileSync(join(outDir, name), readFileSync(join(outDir, name), "utf8").replace(/\r\n/g, "\n"))
  return { warnings, undocumented, exports: (entry.members ?? []).map((m) => m.name!), pages: pages.length }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? join(ROOT, "docs/api"))
  const report = buildApiDocs(out, join(ROOT, ".docs-build"), true)
  rmSync(join(ROOT, ".docs-build"), { recursive: true, force: true })
  for (const line of report.warnings) console.error(`warning: ${line}`)
  for (const name of report.undocumented) console.error(`undocumented: ${name}`)
  console.log(`${report.pages} pages for ${report.exports.length} exports in ${out}`)
  process.exitCode = report.warnings.length + report.undocumented.length > 0 ? 1 : 0
}
