/**
 * A node host's answer to node.invoke.request: runs browser.proxy on this machine's browser and
 * sends node.invoke.result back on the same connection.
 */
import type { RpcClient } from "../../client/rpc-client.js"
import { type BrowserController, BrowserError, proxyEnvelope } from "./browser.js"

export interface InvokeRequest {
  readonly id: string
  readonly nodeId: string
  readonly command: string
  readonly paramsJSON?: string | null
  readonly timeoutMs?: number
}

export const handleInvoke = async (
  opts: { readonly browser?: BrowserController | undefined },
  client: Pick<RpcClient, "request">,
  req: InvokeRequest
) => {
  let reply: { ok: true; payload: unknown } | { ok: false; error: { code: string; message: string } }
  try {
    if (req.command !== "browser.proxy" || opts.browser === undefined) {
      throw new BrowserError("INVALID_REQUEST", `this node does not offer ${req.command}`)
    }
    const params = JSON.parse(req.paramsJSON ?? "{}") as {
      method?: string
      path?: string
      query?: Record<string, unknown>
      body?: Record<string, unknown>
    }
    const payload = await opts.browser.handle(
      { method: params.method ?? "GET", path: params.path ?? "/", query: params.query, body: params.body },
      req.timeoutMs ?? 30_000
    )
    // OpenClaw's browser.proxy envelope ({result, files?}), so an OpenClaw Gateway can use this node too.
    reply = { ok: true, payload: proxyEnvelope(payload) }
  } catch (e) {
    reply = {
      ok: false,
      error:
        e instanceof BrowserError
          ? { code: e.code, message: e.message }
          : { code: "UNAVAILABLE", message: String((e as Error)?.message ?? e) }
    }
  }
  await client
    .request("node.invoke.result", { id: req.id, nodeId: req.nodeId, ...reply }, { timeoutMs: 30_000 })
    .catch(() => {
      // The link dropped; the Gateway has already failed this invoke for its caller.
    })
}
