/**
 * What the node host's Chromium may do, decided before it does it. The Gateway (or an agent a web
 * page talked into it) chooses the pages, so by default the browser keeps Chromium's sandbox
 * wherever it works and does not reach the node machine's own loopback, link-local or
 * cloud-metadata addresses. Setting names follow OpenClaw's browser.ssrfPolicy.
 */
import { lookup as dnsLookup } from "node:dns/promises"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"

// ---------------------------------------------------------------------------------------------
// Sandbox

export interface SandboxFacts {
  readonly platform: NodeJS.Platform
  /** Undefined where there are no uids (Windows). */
  readonly uid: number | undefined
  /** A /proc/sys value, trimmed, or undefined when it cannot be read. */
  readonly sysctl: (file: string) => string | undefined
  /** Whether Chromium's setuid sandbox helper sits next to the executable, owned by root with the setuid bit. */
  readonly setuidHelper: boolean
}

export interface SandboxDecision {
  readonly sandbox: boolean
  readonly why: string
}

/** On unless it cannot work: root (Chromium refuses it) or Linux without user namespaces or a setuid helper. */
export const decideSandbox = (f: SandboxFacts): SandboxDecision => {
  if (f.uid === 0)
    return {
      sandbox: false,
      why: "running as root, where Chromium cannot use its sandbox; run the node host as an ordinary user to keep it"
    }
  if (f.platform !== "linux") return { sandbox: true, why: "Chromium's own sandbox" }
  const noUserns =
    f.sysctl("/proc/sys/kernel/unprivileged_userns_clone") === "0"
      ? "kernel.unprivileged_userns_clone is 0"
      : f.sysctl("/proc/sys/user/max_user_namespaces") === "0"
        ? "user.max_user_namespaces is 0"
        : undefined
  if (noUserns === undefined) return { sandbox: true, why: "user namespaces" }
  if (f.setuidHelper) return { sandbox: true, why: "the setuid chrome-sandbox helper" }
  return {
    sandbox: false,
    why: `unavailable here (${noUserns} and there is no setuid chrome-sandbox helper); enable unprivileged user namespaces to keep it`
  }
}

const readSysctl = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8").trim()
  } catch {
    return undefined
  }
}

const hasSetuidHelper = (executablePath: string): boolean => {
  try {
    const helper = path.join(path.dirname(fs.realpathSync(executablePath)), "chrome-sandbox")
    const st = fs.statSync(helper)
    return st.uid === 0 && (st.mode & 0o4000) !== 0
  } catch {
    return false
  }
}

export const sandboxForThisMachine = (executablePath: string): SandboxDecision =>
  decideSandbox({
    platform: process.platform,
    uid: typeof process.getuid === "function" ? process.getuid() : undefined,
    sysctl: readSysctl,
    setuidHelper: process.platform === "linux" && hasSetuidHelper(executablePath)
  })

// ---------------------------------------------------------------------------------------------
// Addresses

/** nodeHost.browser.ssrfPolicy: OpenClaw's names for the same switches. */
export interface NavigationPolicy {
  /** Allow every address, the node machine's own included. */
  readonly dangerouslyAllowPrivateNetwork: boolean
  /** Host names (or addresses) allowed even though they resolve to a blocked address. */
  readonly allowedHostnames: ReadonlyArray<string>
}

export const DEFAULT_NAVIGATION_POLICY: NavigationPolicy = {
  dangerouslyAllowPrivateNetwork: false,
  allowedHostnames: []
}

const RULES: ReadonlyArray<readonly [string, number, "ipv4" | "ipv6", string]> = [
  ["127.0.0.0", 8, "ipv4", "a loopback address"],
  ["0.0.0.0", 8, "ipv4", "an unspecified address (it reaches this machine)"],
  ["169.254.0.0", 16, "ipv4", "a link-local address (cloud metadata services live there)"],
  ["::", 127, "ipv6", "an unspecified or loopback address"],
  ["fe80::", 10, "ipv6", "a link-local address"],
  ["fd00:ec2::254", 128, "ipv6", "a cloud metadata address"],
  // IPv4-compatible (::a.b.c.d): the loopback and unspecified ranges in IPv6 spelling.
  ["::7f00:0", 104, "ipv6", "a loopback address"],
  ["::", 104, "ipv6", "an unspecified address"]
]

const blockLists = RULES.map(([address, prefix, family, what]) => {
  const list = new net.BlockList()
  list.addSubnet(address, prefix, family)
  return { list, family, what }
})

/** IPv4-mapped IPv6 (::ffff:7f00:1, ::ffff:127.0.0.1) as the IPv4 address it is. */
const unmapped = (address: string): string => {
  const a = address.toLowerCase()
  if (!a.startsWith("::ffff:")) return a
  const rest = a.slice(7)
  if (net.isIPv4(rest)) return rest
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest)
  if (m === null) return a
  const hi = parseInt(m[1]!, 16)
  const lo = parseInt(m[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/** What kind of blocked address `address` is, or undefined when a page may be loaded from it. */
export const blockedAddress = (address: string): string | undefined => {
  const a = unmapped(address.replace(/^\[|\]$/g, ""))
  const family = net.isIPv4(a) ? "ipv4" : net.isIPv6(a) ? "ipv6" : undefined
  if (family === undefined) return undefined
  return blockLists.find((b) => b.family === family && b.list.check(a, family))?.what
}

export type Resolve = (host: string) => Promise<ReadonlyArray<string>>

export const resolveAll: Resolve = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address)

/**
 * Why the browser must not load `url`, or undefined. Host names are resolved first: a name that
 * resolves to a blocked address is blocked as well (a name that does not resolve is left to the
 * browser, which will not reach it either).
 */
export const blockedDestination = async (
  url: URL,
  policy: NavigationPolicy,
  resolve: Resolve = resolveAll
): Promise<string | undefined> => {
  if (policy.dangerouslyAllowPrivateNetwork || (url.protocol !== "http:" && url.protocol !== "https:")) return undefined
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase()
  if (policy.allowedHostnames.some((h) => h.toLowerCase() === host)) return undefined
  const hint =
    "the node host does not load its own machine's loopback, link-local or metadata addresses; to allow them set nodeHost.browser.ssrfPolicy.dangerouslyAllowPrivateNetwork (or list the host in nodeHost.browser.ssrfPolicy.allowedHostnames) in the node host's config"
  if (net.isIP(host) !== 0) {
    const what = blockedAddress(host)
    return what === undefined ? undefined : `${url.host} is ${what} of the node's machine: ${hint}`
  }
  // Chromium answers these names itself, without DNS.
  if (host === "localhost" || host.endsWith(".localhost")) return `${url.host} is a loopback name: ${hint}`
  let addresses: ReadonlyArray<string>
  try {
    addresses = await resolve(host)
  } catch {
    return undefined
  }
  for (const address of addresses) {
    const what = blockedAddress(address)
    if (what !== undefined) return `${url.host} resolves to ${address}, ${what} of the node's machine: ${hint}`
  }
  return undefined
}
