/**
 * Fails when src's folders import each other in a loop (dependency-cruiser's no-cycles rule sees
 * only file-level cycles). A folder is src/services/<feature>/ or src/<folder>/; a file directly
 * in src/ is its own node. Reads `depcruise --output-type json` on stdin:
 *
 *   depcruise src --config .dependency-cruiser.cjs --output-type json | node scripts/check-folder-cycles.mjs
 *
 * `--graph` prints the folder graph (each folder and the folders it imports) instead.
 */
import { readFileSync } from "node:fs"
import { pathToFileURL } from "node:url"

/** The folder a module of ours belongs to, or undefined for anything outside src/. */
export const folderOf = (source) => {
  if (!source.startsWith("src/")) return undefined
  const parts = source.split("/")
  if (parts[1] === "services" && parts.length > 3) return `src/services/${parts[2]}`
  return parts.length > 2 ? `src/${parts[1]}` : source
}

/** Folder -> folder -> the file edges ("a.ts -> b.ts") that make that folder edge. */
export const folderGraph = (modules) => {
  const graph = new Map()
  for (const m of modules) {
    const from = folderOf(m.source)
    if (from === undefined) continue
    if (!graph.has(from)) graph.set(from, new Map())
    for (const d of m.dependencies ?? []) {
      const to = folderOf(d.resolved)
      if (to === undefined || to === from) continue
      const edges = graph.get(from)
      if (!edges.has(to)) edges.set(to, [])
      edges.get(to).push(`${m.source} -> ${d.resolved}`)
    }
  }
  return graph
}

/** The strongly connected components with more than one folder (Tarjan), each sorted. */
export const folderCycles = (graph) => {
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const cycles = []
  let next = 0
  const visit = (v) => {
    index.set(v, next)
    low.set(v, next)
    next++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
    }
    if (low.get(v) !== index.get(v)) return
    const component = []
    let w
    do {
      w = stack.pop()
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1) cycles.push(component.sort())
  }
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v)
  return cycles
}

/** A report of each cycle: its folders, then the file edges between them. Empty when there is none. */
export const describeCycles = (graph) =>
  folderCycles(graph).map((folders) => {
    const inCycle = new Set(folders)
    const lines = [`folder cycle: ${folders.join(", ")}`]
    for (const from of folders)
      for (const [to, edges] of graph.get(from) ?? [])
        if (inCycle.has(to)) for (const edge of edges) lines.push(`  ${edge}`)
    return lines.join("\n")
  })

const main = () => {
  const result = JSON.parse(readFileSync(0, "utf8"))
  const graph = folderGraph(result.modules)
  if (process.argv.includes("--graph")) {
    for (const from of [...graph.keys()].sort())
      console.log(`${from} -> ${[...graph.get(from).keys()].sort().join(", ") || "(nothing)"}`)
    return
  }
  const reports = describeCycles(graph)
  if (reports.length === 0) return
  console.error(
    `${reports.join("\n\n")}\n\nFolders import each other in a loop: move the code to the folder it belongs to (see docs/architecture.md).`
  )
  process.exitCode = 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main()
