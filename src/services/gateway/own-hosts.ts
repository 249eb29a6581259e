/**
 * The DNS-rebinding guard (security.md section 8, the origin rule of shared/protocol.md): the
 * names this Gateway knows to be its own. A web page on an attacker's name that resolves to
 * 127.0.0.1 reaches the Gateway with that name as its Host, so a request whose Host is not one of
 * these is refused before the upgrade and before any Control UI page is served.
 *
 * Own names: loopback names and addresses, the bind addresses (for a wildcard bind, this
 * machine's interface addresses and host name), the Tailscale MagicDNS name (asked of `tailscale
 * status` when a Host looks like it), and the hosts of gateway.controlUi.allowedOrigins.
 */
import * as os from "node:os"
import { isLoopbackAddress } from "../../platform/http-peer.js"

/** What may follow the name in a Host header: nothing, or a port. */
const PORT_SUFFIX = /^(:\d{1,5})?$/

/**
 * The name part of a Host header, lowercased, without port, brackets or a trailing dot; undefined
 * when anything but a port follows it (`[::1].evil.example` is no name of ours, nor is it ::1).
 */
export const hostnameOf = (host: string | undefined): string | undefined => {
  if (host === undefined) return undefined
  const h = host.trim().toLowerCase()
  if (h.startsWith("[")) {
    const end = h.indexOf("]")
    return end < 0 || !PORT_SUFFIX.test(h.slice(end + 1)) ? undefined : h.slice(1, end)
  }
  const colon = h.indexOf(":")
  if (colon >= 0 && !PORT_SUFFIX.test(h.slice(colon))) return undefined
  const name = (colon < 0 ? h : h.slice(0, colon)).replace(/\.$/, "")
  return name === "" ? undefined : name
}

const isLoopbackName = (name: string) => name === "localhost" || name.endsWith(".localhost") || isLoopbackAddress(name)

const WILDCARDS = new Set(["0.0.0.0", "::"])

/** How often an unknown *.ts.net Host may make the Gateway ask Tailscale for its name again. */
const DISCOVER_EVERY_MS = 10_000

export interface OwnHostsOptions {
  readonly bindHosts: ReadonlyArray<string>
  readonly allowedOrigins: ReadonlyArray<string>
  /** Names from `tailscale status` (MagicDNS name, tailnet addresses); undefined when Tailscale is not in use. */
  readonly discover?: () => Promise<ReadonlyArray<string>>
  readonly interfaces?: () => NodeJS.Dict<Array<os.NetworkInterfaceInfo>>
  readonly hostname?: string
}

export class OwnHosts {
  private readonly names = new Set<string>()
  private discovering: Promise<void> | undefined
  private discoveredAt = -Infinity

  constructor(private readonly options: OwnHostsOptions) {
    for (const host of options.bindHosts) {
      if (!WILDCARDS.has(host)) this.add(host)
      else {
        for (const infos of Object.values((options.interfaces ?? os.networkInterfaces)()))
          for (const i of infos ?? []) this.add(i.address)
        const name = options.hostname ?? os.hostname()
        this.add(name)
        this.add(`${name.split(".")[0]}.local`)
      }
    }
    for (const origin of options.allowedOrigins) {
      try {
        this.add(new URL(origin).hostname)
      } catch {
        // Not a URL: GatewayConfig reports it; it names no host here.
      }
    }
  }

  add(name: string): void {
    const h = hostnameOf(name.includes(":") && !name.startsWith("[") ? `[${name}]` : name)
    if (h !== undefined) this.names.add(h)
  }

  /** Known at once (most requests): true/false; a *.ts.net name not yet known may need Tailscale asked. */
  knows(host: string | undefined): boolean {
    const name = hostnameOf(host)
    return name !== undefined && (isLoopbackName(name) || this.names.has(name))
  }

  /** Whether to ask Tailscale before deciding about `host`. */
  mayDiscover(host: string | undefined): boolean {
    const name = hostnameOf(host)
    return (
      this.options.discover !== undefined &&
      name !== undefined &&
      name.endsWith(".ts.net") &&
      Date.now() - this.discoveredAt >= DISCOVER_EVERY_MS
    )
  }

  /** Asks Tailscale (one question at a time, at most every 10 s), then answers `knows`. */
  async discoverAndCheck(host: string | undefined): Promise<boolean> {
    if (this.mayDiscover(host)) {
      this.discovering ??= this.options.discover!()
        .then((names) => {
          for (const n of names) {
            this.add(n)
            // MagicDNS also answers the short machine name inside the tailnet.
            if (n.endsWith(".ts.net")) this.add(n.split(".")[0]!)
          }
        })
        .catch(() => {})
        .finally(() => {
          this.discoveredAt = Date.now()
          this.discovering = undefined
        })
      await this.discovering
    }
    return this.knows(host)
  }
}

/** The 403 text: names the setting that allows a name (one event, one line: the Host is quoted). */
export const hostRefusal = (host: string | undefined): string => {
  const shown = JSON.stringify((host ?? "").slice(0, 100))
  const name = hostnameOf(host)
  const example = name !== undefined && /^[a-z0-9.-]{1,100}$/.test(name) ? name : "name"
  return `Host ${shown} is not a name of this Gateway (DNS rebinding guard): if you reach it by that name, add its origin (like "https://${example}") to gateway.controlUi.allowedOrigins`
}
