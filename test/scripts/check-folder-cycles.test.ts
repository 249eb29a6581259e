/** scripts/check-folder-cycles.mjs, run as `npm run lint` runs it: depcruise's JSON on stdin. */
import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"

const check = (modules: ReadonlyArray<{ source: string; dependencies: ReadonlyArray<{ resolved: string }> }>) =>
  spawnSync(process.execPath, ["scripts/check-folder-cycles.mjs"], {
    input: JSON.stringify({ modules }),
    encoding: "utf8"
  })

const mod = (source: string, ...imports: ReadonlyArray<string>) => ({
  source,
  dependencies: imports.map((resolved) => ({ resolved }))
})

describe("check-folder-cycles", () => {
  it("fails on folders that import each other, naming the folders and the file edges", () => {
    const result = check([
      mod("src/services/nodes/Nodes.ts", "src/services/pairing/Pairing.ts", "src/protocol/frames.ts"),
      mod("src/services/pairing/Pairing.ts", "src/services/pairing/store.ts"),
      // No file cycle: a different file of pairing imports back into nodes.
      mod("src/services/pairing/admission.ts", "src/services/nodes/browser-files.ts"),
      mod("src/services/nodes/browser-files.ts"),
      mod("src/protocol/frames.ts", "node_modules/effect/index.js")
    ])
    expect(result.status).toBe(1)
    expect(result.stderr).toContain("folder cycle: src/services/nodes, src/services/pairing")
    expect(result.stderr).toContain("src/services/nodes/Nodes.ts -> src/services/pairing/Pairing.ts")
    expect(result.stderr).toContain("src/services/pairing/admission.ts -> src/services/nodes/browser-files.ts")
    expect(result.stderr).not.toContain("src/protocol")
  })

  it("passes a layered graph, where imports within a folder do not count", () => {
    const result = check([
      mod("src/services/nodes/Nodes.ts", "src/services/pairing/Pairing.ts", "src/services/nodes/methods.ts"),
      mod("src/services/nodes/methods.ts", "src/services/nodes/Nodes.ts"),
      mod("src/services/pairing/Pairing.ts", "src/protocol/frames.ts"),
      mod("src/index.ts", "src/services/nodes/Nodes.ts")
    ])
    expect(result.stderr).toBe("")
    expect(result.status).toBe(0)
  })
})
