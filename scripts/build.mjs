// Builds dist/main.cjs (the CLI: one minified bundle, for fast start-up) and dist/index.js
// (the embedding API, with dependencies left as imports so it shares the host app's effect).
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
const define = { __OPENCLAW_VERSION__: JSON.stringify(version) }

await Promise.all([
  build({
    entryPoints: ["src/main.ts"],
    outfile: "dist/main.cjs",
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    minify: true,
    legalComments: "none",
    define,
    logLevel: "warning"
  }),
  build({
    entryPoints: ["src/index.ts"],
    outfile: "dist/index.js",
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    define,
    logLevel: "warning"
  })
])

if (!process.argv.includes("--no-types")) {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json", "--emitDeclarationOnly"], { stdio: "inherit" })
}
