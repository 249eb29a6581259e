/**
 * Files in a browser.proxy answer (`{result, files}`: a screenshot's bytes, named in the result by
 * `path`). As OpenClaw's Gateway does, each file is saved on the Gateway host (stateDir/media/browser,
 * mode 0600) and the result's `path` is rewritten to the saved file, so OpenClaw's CLI prints a
 * path that exists; the files also go on in the answer (`files`), so a CLI on another machine
 * (ours) gets the bytes.
 */
import { randomUUID } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import type { ProxyFile } from "../../protocol/browser-proxy.js"
import { isRecord } from "../../protocol/frames.js"
import { RpcError } from "../gateway/api.js"

/** At most this many files, this many bytes in all, in one answer. */
const MAX_FILES = 8
const MAX_TOTAL_BYTES = 20 * 1024 * 1024
/** Result fields that name a file (OpenClaw's screenshot `path`, snapshot `imagePath`). */
const PATH_FIELDS = ["path", "imagePath"] as const

const EXTENSIONS: Record<string, string> = { "image/png": ".png", "image/jpeg": ".jpg", "application/pdf": ".pdf" }

const invalid = () =>
  RpcError.unavailable(
    "the node's browser answer had an invalid file list (each file needs a path named in the result and base64 data)"
  )

/** The envelope's files, checked: each names a path the result refers to. */
export const proxyFiles = (result: unknown, files: unknown): ReadonlyArray<ProxyFile> => {
  if (files === undefined) return []
  if (!Array.isArray(files) || files.length > MAX_FILES) throw invalid()
  const referenced = new Set(
    PATH_FIELDS.map((k) => (isRecord(result) ? result[k] : undefined)).filter((v): v is string => typeof v === "string")
  )
  let total = 0
  return files.map((f: unknown) => {
    if (!isRecord(f) || typeof f.path !== "string" || typeof f.base64 !== "string" || !referenced.has(f.path))
      throw invalid()
    if (f.mimeType !== undefined && typeof f.mimeType !== "string") throw invalid()
    total += Math.floor((f.base64.length * 3) / 4)
    if (total > MAX_TOTAL_BYTES)
      throw RpcError.unavailable(`the node's browser answer carried more than ${MAX_TOTAL_BYTES} bytes of files`)
    return { path: f.path, base64: f.base64, ...(f.mimeType === undefined ? {} : { mimeType: f.mimeType }) }
  })
}

/**
 * The answer browser.request gives for a node's `{result, files}`: the result, with files saved
 * under `stateDir` (when it is a real directory) and named by their saved paths, plus `files`.
 */
export const browserAnswer = (result: unknown, rawFiles: unknown, stateDir: string): unknown => {
  const files = proxyFiles(result, rawFiles)
  if (files.length === 0) return result
  const saved = new Map<string, string>()
  if (path.isAbsolute(stateDir)) {
    const dir = path.join(stateDir, "media", "browser")
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    for (const f of files) {
      const file = path.join(dir, `${randomUUID()}${EXTENSIONS[f.mimeType ?? ""] ?? path.extname(f.path).slice(0, 8)}`)
      fs.writeFileSync(file, Buffer.from(f.base64, "base64"), { mode: 0o600 })
      saved.set(f.path, file)
    }
  }
  const renamed = (p: string) => saved.get(p) ?? p
  const out: Record<string, unknown> = { ...(result as Record<string, unknown>) }
  for (const k of PATH_FIELDS) if (typeof out[k] === "string") out[k] = renamed(out[k] as string)
  out.files = files.map((f) => ({ ...f, path: renamed(f.path) }))
  return out
}
