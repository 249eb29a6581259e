/**
 * The node host's Chromium reaches the web only through this small proxy on 127.0.0.1, which
 * checks every request before connecting: navigations, each redirect hop, frames, scripts,
 * fetches and WebSockets (tunnelled with CONNECT). It resolves a host name once, decides on the
 * addresses it got, and connects to the address it checked, so a name cannot resolve to a public
 * address for the check and to 127.0.0.1 for the connection (DNS rebinding).
 */
import * as http from "node:http"
import * as net from "node:net"
import { blockedDestination, type NavigationPolicy, type Resolve, resolveAll } from "./browser-policy.js"

/** Marks the proxy's own refusal, so the controller can tell it from a page's 403. */
export const BLOCKED_HEADER = "x-openclaw-node-blocked"

export interface GuardProxy {
  /** For Chromium's --proxy-server. */
  readonly url: string
  /** The last refusal, to name it when a navigation fails. */
  readonly lastBlocked: () => string | undefined
  readonly clearBlocked: () => void
  readonly close: () => Promise<void>
}

/** Where to connect for `url`: the checked address, or why not. */
const decide = async (
  url: URL,
  policy: NavigationPolicy,
  resolve: Resolve
): Promise<{ readonly host: string } | { readonly blocked: string }> => {
  let resolved: Promise<ReadonlyArray<string>> | undefined
  // One lookup for the check and the connection.
  const once: Resolve = (host) => (resolved ??= resolve(host))
  const blocked = await blockedDestination(url, policy, once)
  if (blocked !== undefined) return { blocked }
  const host = url.hostname.replace(/^\[|\]$/g, "")
  if (net.isIP(host) !== 0 || resolved === undefined) return { host }
  const addresses = await resolved.catch(() => [])
  return { host: addresses[0] ?? host }
}

export const startGuardProxy = async (policy: NavigationPolicy, resolve: Resolve = resolveAll): Promise<GuardProxy> => {
  let lastBlocked: string | undefined
  const refuse = (why: string) => {
    lastBlocked = why
    return why
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      let url: URL
      try {
        url = new URL(req.url ?? "")
        if (url.protocol !== "http:") throw new Error("not http")
      } catch {
        res.writeHead(400, { [BLOCKED_HEADER]: "1" }).end()
        return
      }
      const to = await decide(url, policy, resolve)
      if ("blocked" in to) {
        res
          .writeHead(403, { "content-type": "text/plain; charset=utf-8", [BLOCKED_HEADER]: "1" })
          .end(refuse(to.blocked))
        return
      }
      const headers = { ...req.headers }
      delete headers["proxy-connection"]
      delete headers["proxy-authorization"]
      const upstream = http.request(
        {
          host: to.host,
          port: Number(url.port || 80),
          method: req.method,
          path: `${url.pathname}${url.search}`,
          headers: { ...headers, host: url.host },
          setHost: false
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
          answer.pipe(res)
        }
      )
      upstream.on("error", () => (res.headersSent ? res.destroy() : res.writeHead(502).end()))
      req.pipe(upstream)
    })()
  })

  // Tunnels leave the HTTP server's books once open: closed here with it.
  const tunnels = new Set<net.Socket>()
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on("error", () => {})
    tunnels.add(client)
    client.on("close", () => tunnels.delete(client))
    void (async () => {
      let url: URL
      try {
        url = new URL(`https://${req.url ?? ""}`)
      } catch {
        client.end("HTTP/1.1 400 Bad Request\r\n\r\n")
        return
      }
      const to = await decide(url, policy, resolve)
      if ("blocked" in to) {
        refuse(to.blocked)
        client.end(`HTTP/1.1 403 Forbidden\r\n${BLOCKED_HEADER}: 1\r\n\r\n`)
        return
      }
      const upstream = net.connect({ host: to.host, port: Number(url.port || 443) }, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
        if (head.length > 0) upstream.write(head)
        upstream.pipe(client)
        client.pipe(upstream)
      })
      upstream.on("error", () => client.destroy())
      client.on("close", () => upstream.destroy())
    })()
  })

  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolveListen())
  })
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    lastBlocked: () => lastBlocked,
    clearBlocked: () => (lastBlocked = undefined),
    close: () =>
      new Promise<void>((done) => {
        for (const t of tunnels) t.destroy()
        server.closeAllConnections()
        server.close(() => done())
      })
  }
}
