// Builds dist/main.cjs (the CLI: one minified bundle, for fast start-up, with every dependency
// inlined but playwright-core, copied to dist/vendor/) and dist/index.mjs + dist/testing.mjs (the embedding API and its
// test harness, with dependencies left as imports so they share the host app's effect; the code
// both use is one shared chunk, so a Tag or an error class is the same object through either).
import { build, transform } from "esbuild"
import { execFileSync } from "node:child_process"
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
const define = { __OPENCLAW_VERSION__: JSON.stringify(version) }

// Modules the CLI bundle never calls, but that its dependencies import: @effect/cli's config-file
// parsers (yaml, toml, ini) and Schema's property-test generators (fast-check). Replacing them
// with stubs that throw if ever used cuts a quarter of the bundle, and so of start-up time.
const unused = ["yaml", "toml", "ini", "fast-check"]
const stubUnused = {
  name: "stub-unused",
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${unused.join("|")})$`) }, (args) => ({ path: args.path, namespace: "stub" }))
    b.onLoad({ filter: /.*/, namespace: "stub" }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not bundled into the openclaw CLI`)}) }
module.exports = new Proxy({}, { get: (_t, k) => (k === "__esModule" ? false : k === "default" ? module.exports : fail) })`,
      loader: "js"
    }))
  }
}

// Stale chunks and declarations of modules no longer public would otherwise be packed.
rmSync("dist/types", { recursive: true, force: true })
mkdirSync("dist", { recursive: true })
for (const f of readdirSync("dist", { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith(".mjs")))
  rmSync(`dist/${f.name}`)

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
    plugins: [stubUnused],
    // Loaded lazily from dist/vendor/ (node host browser code only), never bundled: keeps the CLI's start-up fast.
    external: ["playwright-core"],
    define,
    logLevel: "warning"
  }),
  build({
    entryPoints: ["src/index.ts", "src/testing.ts"],
    outdir: "dist",
    outExtension: { ".js": ".mjs" },
    entryNames: "[name]",
    // In dist/ itself: the Control UI's code finds its assets next to the module it is in.
    chunkNames: "[name]-[hash]",
    splitting: true,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    define,
    // The Control UI's assets are found next to the bundle (src/services/gateway/control-ui.ts uses __dirname).
    banner: {
      js: 'import { fileURLToPath as __ocFileURLToPath } from "node:url"; const __dirname = __ocFileURLToPath(new URL(".", import.meta.url));'
    },
    logLevel: "warning"
  }),
  // The Control UI: one script and one stylesheet, served by the Gateway (no CDN, no inline script).
  build({
    entryPoints: { app: "src/ui/app.ts" },
    outdir: "dist/ui",
    bundle: true,
    platform: "browser",
    format: "iife",
    target: ["chrome100", "firefox100", "safari15"],
    minify: true,
    legalComments: "none",
    define,
    logLevel: "warning"
  }),
  build({
    entryPoints: { app: "src/ui/styles.css" },
    outdir: "dist/ui",
    bundle: true,
    minify: true,
    logLevel: "warning"
  })
])
// The node host's browser driver: a copy of playwright-core next to the CLI bundle, loaded on first
// use (src/services/node-host/browser.ts): 4 MB instead of 14, and not a dependency every app
// embedding the library would install. Left out: what the node host never runs (the trace viewer
// and recorder in lib/vite, the playwright CLI and MCP tools, WebP encoding for screencasts, the
// browser install scripts) and the types. test/e2e/nodes.test.ts drives a browser through it.
const playwright = "node_modules/playwright-core"
const notShipped = ["lib/vite", "lib/tools", "lib/entry", "lib/webp_codec.wasm", "types", "bin"].map(
  (p) => `${playwright}/${p}`
)
rmSync("dist/vendor", { recursive: true, force: true })
cpSync(playwright, "dist/vendor/playwright-core", {
  recursive: true,
  dereference: true,
  filter: (src) => !notShipped.includes(src)
})
// Its two bundles are not minified (7 MB); minified they are 4 MB. The page-side scripts in them
// are string literals, which minification leaves as they are.
for (const bundle of ["coreBundle.js", "utilsBundle.js"]) {
  const file = `dist/vendor/playwright-core/lib/${bundle}`
  const { code } = await transform(readFileSync(file, "utf8"), {
    loader: "js",
    format: "cjs",
    platform: "node",
    target: "node20",
    minify: true,
    legalComments: "eof"
  })
  writeFileSync(file, code)
}

mkdirSync("dist/ui", { recursive: true })
copyFileSync("src/ui/index.html", "dist/ui/index.html")
copyFileSync("src/ui/favicon.svg", "dist/ui/favicon.svg")

// A fresh bundle invalidates the V8 code cache; make a new one now, after a Gateway start and a
// call against it (scripts/warm-cache.cjs). Should that fail, bin/openclaw writes one on first use.
rmSync("dist/main.cjs.cache", { force: true })
try {
  execFileSync(process.execPath, ["scripts/warm-cache.cjs"], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 60_000
  })
} catch (e) {
  console.warn(`warning: could not warm the code cache (${e.message}); the first CLI run will`)
}

if (!process.argv.includes("--no-types")) {
  // The declarations of the two public entries and what they reach: none of the CLI's, whose
  // @effect/cli is not installed for users (`npm run typecheck` checks every source).
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.types.json"], {
    stdio: "inherit"
  })
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "src/ui/tsconfig.json"], {
    stdio: "inherit"
  })
}
