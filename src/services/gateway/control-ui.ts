/**
 * Serving the Control UI (built by scripts/build.mjs into dist/ui/) at gateway.controlUi.basePath.
 * The assets are read once at start-up and served from memory with the security headers of
 * shared/security.md section 4; nothing outside that fixed set of files is ever served.
 */
import * as fs from "node:fs"
import type * as http from "node:http"
import * as path from "node:path"
import { VERSION } from "../../version.js"
import { SECURITY_HEADERS } from "./http.js"

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon"
}

export interface UiAsset {
  readonly type: string
  readonly body: Buffer
}

/** dist/ui next to the bundle (dist/main.cjs, dist/index.mjs), or the repo's dist/ui when run from src. */
export const findUiDir = (): string | undefined =>
  [path.join(__dirname, "ui"), path.resolve(__dirname, "../../../dist/ui")].find((d) =>
    fs.existsSync(path.join(d, "index.html"))
  )

export const loadUiAssets = (dir: string | undefined): Map<string, UiAsset> => {
  const assets = new Map<string, UiAsset>()
  if (dir === undefined) return assets
  for (const name of fs.readdirSync(dir)) {
    const type = TYPES[path.extname(name)]
    if (type !== undefined) assets.set(name, { type, body: fs.readFileSync(path.join(dir, name)) })
  }
  return assets
}

/**
 * The page's sign-in form preselects the kind of secret this Gateway takes: index.html gets
 * <meta name="openclaw-auth" content="token|password|none">. The mode only, never the secret;
 * a meta tag needs no script or request, so the CSP stays as it is.
 */
export const withAuthKind = (assets: Map<string, UiAsset>, mode: string): Map<string, UiAsset> => {
  const index = assets.get("index.html")
  if (index === undefined) return assets
  const html = index.body.toString("utf8")
  const meta = `<meta name="openclaw-auth" content="${mode.replace(/[^a-z-]/g, "")}">`
  const body = html.includes("</head>") ? html.replace("</head>", `${meta}\n</head>`) : html
  return new Map(assets).set("index.html", { type: index.type, body: Buffer.from(body) })
}

const missingAssetsPage = () =>
  Buffer.from(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenClaw Gateway</title></head>
<body><h1>OpenClaw Gateway ${VERSION}</h1>
<p>The Gateway is running, but the Control UI's files were not found (dist/ui). Run <code>npm run build</code> and restart the Gateway; meanwhile use the <code>openclaw</code> CLI.</p>
</body></html>`)

/**
 * Answers a request under basePath ("" or "/x"); returns false when the path is not the UI's.
 * "/x" redirects to "/x/" so the page's relative asset URLs resolve under basePath.
 */
export const serveControlUi = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  urlPath: string,
  basePath: string,
  assets: ReadonlyMap<string, UiAsset>
): boolean => {
  if (basePath !== "" && urlPath === basePath) {
    res.writeHead(302, { Location: `${basePath}/`, ...SECURITY_HEADERS })
    res.end()
    return true
  }
  if (!urlPath.startsWith(`${basePath}/`)) return false
  const rest = urlPath.slice(basePath.length + 1)
  const name =
    rest === "" || rest === "index.html" || rest === "webchat" || rest === "webchat/"
      ? "index.html"
      : // Browsers that ignore <link rel="icon"> still ask for favicon.ico: they get the same SVG, not a 404.
        rest === "favicon.ico" && !assets.has(rest)
        ? "favicon.svg"
        : rest
  const asset = assets.get(name)
  if (asset === undefined && !(name === "index.html" && assets.size === 0)) return false
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { Allow: "GET, HEAD", ...SECURITY_HEADERS })
    res.end()
    return true
  }
  const body = asset?.body ?? missingAssetsPage()
  res.writeHead(200, {
    "Content-Type": asset?.type ?? TYPES[".html"]!,
    "Content-Length": body.length,
    ...SECURITY_HEADERS
  })
  res.end(req.method === "HEAD" ? undefined : body)
  return true
}
