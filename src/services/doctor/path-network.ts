/**
 * The network steps of the path walk: dns, tcp, tls, http (from this machine to the Gateway's
 * port, before any WebSocket).
 */
import * as dns from "node:dns"
import * as net from "node:net"
import { Effect } from "effect"
import { TLS_REQUIRED_HEADER, TLS_REQUIRED_VALUE } from "../../protocol/frames.js"
import { dialOf, type PathWalk } from "./path-context.js"
import { rawGet, tcpConnect, tlsHandshake } from "./probe.js"
import { failed, passed, skipped, type Step } from "./steps.js"

export const networkSteps = (w: PathWalk): Array<Step> => {
  const { timeoutMs } = w.input
  const { host, port, secure, where, via, addressSetting, openSocket } = dialOf(w)

  const dnsStep: Step = {
    id: "dns",
    run: Effect.promise(async () => {
      const name = host()
      if (net.isIP(name) !== 0) {
        w.addresses = [name]
        return passed(`${name} is an IP address (nothing to resolve)`)
      }
      try {
        const found = await Promise.race([
          dns.promises.lookup(name, { all: true }),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" })), timeoutMs).unref()
          )
        ])
        w.addresses = found.map((a) => a.address)
        return passed(`${name} -> ${w.addresses.join(", ")}`)
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "ERROR"
        return code === "ENOTFOUND"
          ? failed(
              `${name} does not resolve (ENOTFOUND)`,
              `check the host name in ${w.target!.source}; for a tailnet name, is MagicDNS on and Tailscale up here?`
            )
          : failed(
              `no answer resolving ${name} (${code})`,
              "this machine's DNS did not answer: check its network and resolver, or use an IP address"
            )
      }
    })
  }

  const tcp: Step = {
    id: "tcp",
    run: Effect.promise(async () => {
      let first: Awaited<ReturnType<typeof tcpConnect>> | undefined
      for (const a of w.addresses) {
        const r = await tcpConnect(a, port(), timeoutMs)
        if (r.ok) {
          w.address = a
          return passed(`connected to ${net.isIPv6(a) ? `[${a}]` : a}:${port()}${via()}`)
        }
        first ??= r
      }
      const r = first!
      const at = `${w.addresses[0]}:${port()}`
      if (r.ok) return passed(at)
      if (r.why === "refused") {
        return failed(
          `${at} refused the connection (ECONNREFUSED): nothing listens there`,
          w.target!.remote
            ? `start the Gateway there, check ${addressSetting()}, and that its gateway.bind lets this machine in (a loopback Gateway needs an SSH tunnel or Tailscale Serve)`
            : `start the Gateway (\`openclaw gateway run\`), or check ${addressSetting()}`
        )
      }
      if (r.why === "timeout")
        return failed(
          `no answer from ${at} within ${timeoutMs} ms (timed out: packets dropped, or the host is down)`,
          `check firewalls between here and ${host()}, and ${addressSetting()}`
        )
      if (r.why === "unreachable")
        return failed(
          `${at} is unreachable (${r.code}): no route to the host`,
          `check this machine's network (VPN or Tailscale up?) and ${addressSetting()}`
        )
      return failed(`cannot connect to ${at} (${r.code})`, `check ${addressSetting()}`)
    })
  }

  /** What a plaintext server that is not HTTP sends on its own (an SSH banner), if anything. */
  const sniffBanner = async (): Promise<string | undefined> => {
    const s = await new Promise<net.Socket | undefined>((resolve) => {
      const c = net.connect({ host: w.address, port: port() })
      c.once("connect", () => resolve(c))
      c.once("error", () => resolve(undefined))
    })
    if (s === undefined) return undefined
    const r = await rawGet(s, w.dial!.host, "/healthz", Math.min(Math.round(timeoutMs / 3), 3_000))
    return r.kind === "other" ? r.banner : undefined
  }

  const tlsStep: Step = {
    id: "tls",
    run: Effect.promise(async () => {
      if (!secure()) {
        // Plaintext to a TLS port: the Gateway answers with its marker header, other TLS servers with an alert.
        const s = await openSocket().catch(() => undefined)
        // A sniff, not the check: an HTTP or TLS server answers at once, and a silent one is the http step's to report.
        const sniffMs = Math.min(Math.round(timeoutMs / 3), 3_000)
        const r = s === undefined ? undefined : await rawGet(s, w.dial!.host, "/healthz", sniffMs)
        if (r?.kind === "tls" || (r?.kind === "http" && r.headers[TLS_REQUIRED_HEADER] === TLS_REQUIRED_VALUE)) {
          return failed(
            `${where()} speaks only TLS, but the target is plaintext ws://${r.kind === "http" ? " (the Gateway has gateway.tls.enabled)" : ""}`,
            w.target!.ssh !== undefined
              ? "set gateway.remote.tlsFingerprint to the fingerprint `openclaw gateway status` shows on the Gateway host (the tunnel then carries wss://)"
              : "use a wss:// URL (gateway.remote.url or --url) and pin the certificate with gateway.remote.tlsFingerprint or --tls-fingerprint (`openclaw gateway status` on the Gateway host shows it)"
          )
        }
        return skipped("ws:// (plaintext; no TLS)")
      }
      const name = host()
      const r = await tlsHandshake(w.address, net.isIP(name) === 0 ? name : undefined, port(), timeoutMs)
      if (!r.ok) {
        // A server that speaks first (SSH) is named by its banner rather than called a plaintext Gateway port.
        const sniffed = r.plaintextPeer ? await sniffBanner() : undefined
        if (sniffed !== undefined)
          return failed(
            `${where()} does not speak TLS: it sent ${sniffed}${sniffed.startsWith('"SSH-') ? " (an SSH server)" : ""}`,
            `something other than an OpenClaw Gateway listens on ${where()}${via()}: point ${addressSetting()} at the Gateway's port, or stop what listens there`
          )
        return r.plaintextPeer
          ? failed(
              `${where()} does not speak TLS (${r.message}): it is a plaintext port`,
              "use ws:// for this Gateway (through an SSH tunnel or on a private address), or set gateway.tls.enabled true on it and restart it"
            )
          : failed(
              `TLS handshake with ${where()} failed (${r.message})`,
              "check that the Gateway serves wss:// (gateway.tls.enabled) on this port"
            )
      }
      const pin = w.target!.tlsFingerprint
      if (pin !== undefined && r.fingerprint !== pin) {
        return failed(
          `certificate mismatch: expected sha256 ${pin} (${w.target!.pinSource}), the server presented ${r.fingerprint}; nothing but the TLS handshake was sent`,
          w.target!.pinSource?.startsWith("local")
            ? "restart the Gateway so it serves its current certificate"
            : `if the Gateway's certificate was replaced on purpose, ${w.target!.pinSource?.startsWith("--") ? `pass ${w.target!.pinSource} with` : `set ${w.target!.pinSource} to`} the fingerprint \`openclaw gateway status\` shows on the Gateway host; otherwise something is intercepting the connection`
        )
      }
      if (pin === undefined && !r.authorized) {
        return failed(
          `the certificate (sha256 ${r.fingerprint}) is not trusted by this machine's CAs (${r.authError ?? "unverified"})`,
          "for the Gateway's own self-signed certificate: compare that fingerprint with `openclaw gateway status` on the Gateway host, then set gateway.remote.tlsFingerprint (or pass --tls-fingerprint) to it"
        )
      }
      w.fingerprint = r.fingerprint
      return passed(
        `${r.protocol}, certificate sha256 ${r.fingerprint} ${pin !== undefined ? `matches the pin (${w.target!.pinSource})` : "trusted by the system CAs"}`
      )
    })
  }

  /** What /readyz says (ready, or degraded and why), as a suffix for the http line; nothing from a Gateway without it. */
  const readiness = async (): Promise<string> => {
    const s = await openSocket().catch(() => undefined)
    if (s === undefined) return ""
    const r = await rawGet(s, w.dial!.host, "/readyz", Math.min(timeoutMs, 3_000))
    if (r.kind !== "http") return ""
    try {
      const body = JSON.parse(r.body) as { status?: unknown; reasons?: unknown }
      w.summary.readiness = {
        status: String(body.status),
        reasons: Array.isArray(body.reasons) ? body.reasons.map(String) : []
      }
      if (body.status === "ready") return "; GET /readyz: ready"
      if (body.status === "degraded" || body.status === "stopping")
        return `; GET /readyz: ${body.status}: ${w.summary.readiness.reasons.join("; ")}`
    } catch {
      // not JSON: an older Gateway
    }
    return ""
  }

  const http: Step = {
    id: "http",
    run: Effect.promise(async () => {
      const s = await openSocket().catch((e: Error) => e)
      if (s instanceof Error) return failed(`cannot reconnect to ${where()}: ${s.message}`, `check ${addressSetting()}`)
      const r = await rawGet(s, w.dial!.host, "/healthz", timeoutMs)
      const elsewhere = `something other than an OpenClaw Gateway listens on ${where()}${via()}: point ${addressSetting()} at the Gateway's port, or stop what listens there`
      switch (r.kind) {
        case "http": {
          let body: { ok?: unknown; status?: unknown } = {}
          try {
            body = JSON.parse(r.body) as typeof body
          } catch {
            // not JSON
          }
          if (r.status === 200 && body.ok === true && body.status === "live")
            return passed(`GET /healthz: 200 {"ok":true,"status":"live"}${await readiness()}`)
          const server = r.headers.server === undefined ? "" : ` from ${JSON.stringify(r.headers.server.slice(0, 60))}`
          const type = r.headers["content-type"] === undefined ? "" : ` (${r.headers["content-type"].split(";")[0]})`
          return failed(`GET /healthz answered HTTP ${r.status}${type}${server}: not an OpenClaw Gateway`, elsewhere)
        }
        case "tls":
          return failed(`${where()} answered plaintext HTTP with TLS`, "use wss://")
        case "other":
          return failed(
            `${where()} does not speak HTTP: it sent ${r.banner}${r.banner.startsWith('"SSH-') ? " (an SSH server)" : ""}`,
            elsewhere
          )
        case "closed":
        case "error":
          return failed(
            `${where()} closed the connection without answering GET /healthz${r.kind === "error" ? ` (${r.message})` : ""}`,
            w.target!.ssh !== undefined
              ? `the tunnel is up, but nothing answers on 127.0.0.1:${w.target!.ssh.remotePort} on ${w.target!.ssh.host}: start the Gateway there (\`openclaw gateway run\`) and check gateway.remote.remotePort is its gateway.port`
              : elsewhere
          )
        case "timeout":
          return failed(`no HTTP answer from ${where()} within ${timeoutMs} ms`, elsewhere)
      }
    })
  }

  return [dnsStep, tcp, tlsStep, http]
}
