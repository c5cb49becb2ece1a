// docs/guide.md's table of contents lists every part and section, and every
// entry (and docs/mpi4py.md's links into the guide) leads to a heading.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import test from "ava"
import { ROOT } from "./helpers.ts"

const guide = readFileSync(join(ROOT, "docs/guide.md"), "utf8")
/** Headings outside code blocks, with their level. */
const headings = guide
  .replace(/^```[\s\S]*?^```/gm, "")
  .split("\n")
  .flatMap((line) => {
    const m = /^(#{1,2}) (.+)$/.exec(line)
    return m === null ? [] : [{ level: m[1]!.length, text: m[2]! }]
  })

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/ /g, "-")
const anchors = new Set(headings.map((h) => slug(h.text)))
const contents = /^## Contents\n\n((?:\s*- .*\n)+)/m.exec(guide)?.[1] ?? ""
const entries = [...contents.matchAll(/\[(.+?)\]\(#([^)]+)\)/g)].map((m) => ({ text: m[1]!, anchor: m[2]! }))

test("the table of contents links to headings of the guide", (t) => {
  t.true(entries.length >= 20, `${entries.length} entries`)
  for (const { text, anchor } of entries) {
    t.true(anchors.has(anchor), `#${anchor} is no heading`)
    t.is(slug(text), anchor, text)
  }
})

test("every part and section of the guide is in the table of contents", (t) => {
  const listed = new Set(entries.map((e) => e.anchor))
  for (const { text } of headings.slice(1)) if (text !== "Contents") t.true(listed.has(slug(text)), `${text} missing from the contents`)
})

test("docs/mpi4py.md's links into the guide lead to headings", (t) => {
  const table = readFileSync(join(ROOT, "docs/mpi4py.md"), "utf8")
  const links = [...table.matchAll(/\(guide\.md#([^)]+)\)/g)].map((m) => m[1]!)
  t.not(links.length, 0)
  for (const anchor of links) t.true(anchors.has(anchor), `guide.md#${anchor}`)
})
