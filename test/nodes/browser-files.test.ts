/** The files of a node's browser.proxy answer, as browser.request saves and passes them on (services/nodes/browser-files.ts). */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { browserAnswer, proxyFiles } from "../../src/services/nodes/browser-files.js"
import type { RpcError } from "../../src/services/gateway/rpc.js"
import { proxyEnvelope } from "../../src/services/node-host/browser.js"

/** The message of the RpcError `f` throws. */
const refusal = (f: () => unknown): string | undefined => {
  try {
    f()
    return undefined
  } catch (e) {
    return (e as RpcError).shape.message
  }
}

const png = Buffer.from("89504e470d0a1a0a0000", "hex").toString("base64")

describe("browser proxy files", () => {
  it("saves each file under stateDir/media/browser (0600), names it in the result, and passes the bytes on", () => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-files-"))
    const out = browserAnswer(
      { ok: true, path: "/node/media/shot.png", url: "http://x/" },
      [{ path: "/node/media/shot.png", base64: png, mimeType: "image/png" }],
      stateDir
    ) as any
    expect(out.path).toMatch(new RegExp(`^${path.join(stateDir, "media", "browser")}/[0-9a-f-]{36}\\.png$`))
    expect(fs.readFileSync(out.path).toString("base64")).toBe(png)
    expect(fs.statSync(out.path).mode & 0o777).toBe(0o600)
    expect(out.files).toEqual([{ path: out.path, base64: png, mimeType: "image/png" }])
    expect(out.url).toBe("http://x/")
  })

  it("without a state directory (in memory) the files pass through unsaved; without files the result is unchanged", () => {
    const out = browserAnswer({ path: "a.png" }, [{ path: "a.png", base64: png }], "(in memory)") as any
    expect(out).toEqual({ path: "a.png", files: [{ path: "a.png", base64: png }] })
    const result = { tabs: [] }
    expect(browserAnswer(result, undefined, "(in memory)")).toBe(result)
  })

  it("refuses a file the result does not name, a malformed list, and too many files", () => {
    expect(refusal(() => proxyFiles({ path: "a.png" }, [{ path: "b.png", base64: png }]))).toMatch(/invalid file list/)
    expect(refusal(() => proxyFiles({ path: "a.png" }, "nope"))).toMatch(/invalid file list/)
    expect(refusal(() => proxyFiles({ path: "a.png" }, [{ path: "a.png" }]))).toMatch(/invalid file list/)
    expect(
      refusal(() =>
        proxyFiles(
          { path: "a.png" },
          Array.from({ length: 9 }, () => ({ path: "a.png", base64: png }))
        )
      )
    ).toMatch(/invalid file list/)
  })

  it("our node host's envelope for an answer without files is just {result} (screenshots: test/e2e/nodes.test.ts)", () => {
    const plain = { tabs: [] }
    expect(proxyEnvelope(plain)).toEqual({ result: plain })
  })
})
