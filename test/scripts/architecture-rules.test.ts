/** .dependency-cruiser.cjs's rules about the core's API, run on a small tree shaped like src/. */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "../..")

/** Writes `files` under a fresh directory (with our tsconfig and rules) and runs depcruise on its src. */
const cruise = (files: Record<string, string>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-rules-"))
  fs.copyFileSync(path.join(root, ".dependency-cruiser.cjs"), path.join(dir, ".dependency-cruiser.cjs"))
  fs.copyFileSync(path.join(root, "tsconfig.json"), path.join(dir, "tsconfig.json"))
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), text)
  }
  const bin = path.join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs")
  const result = spawnSync(process.execPath, [bin, "src", "--config", ".dependency-cruiser.cjs"], {
    cwd: dir,
    encoding: "utf8"
  })
  fs.rmSync(dir, { recursive: true, force: true })
  return { status: result.status, output: result.stdout + result.stderr }
}

const core = {
  "src/services/gateway/connection.ts": "export const connection = 1\n",
  "src/services/gateway/api.ts": 'export { connection } from "./connection.js"\n',
  "src/services/auth/Auth.ts": "export const auth = 1\n"
}

describe("architecture rules", { timeout: 30_000 }, () => {
  it("a feature that imports a core module other than api.ts, or a layer below the core that imports a feature, fails", () => {
    const { status, output } = cruise({
      ...core,
      "src/services/nodes/Nodes.ts":
        'import { connection } from "../gateway/connection.js"\nexport const n = connection\n',
      "src/services/auth/uses-a-feature.ts": 'import { n } from "../nodes/Nodes.js"\nexport const m = n\n'
    })
    expect(status).not.toBe(0)
    expect(output).toContain("features-use-the-core-api")
    expect(output).toContain("src/services/nodes/Nodes.ts")
    expect(output).toContain("boundaries-below-the-core")
  })

  it("a feature that uses api.ts passes", () => {
    const { status, output } = cruise({
      ...core,
      "src/services/nodes/Nodes.ts": 'import { connection } from "../gateway/api.js"\nexport const n = connection\n'
    })
    expect(output).toContain("no dependency violations")
    expect(status).toBe(0)
  })
})
