/**
 * Which Gateway a CLI command talks to, with which credential, and why (for error messages).
 * Target: --url > OPENCLAW_GATEWAY_URL > gateway.remote.url (mode "remote") > local loopback.
 */
import * as net from "node:net"
import * as os from "node:os"
import { ConfigError, type Env, type LoadedConfig } from "../config/load.js"
import { DEFAULT_PORT, parsePortEnv } from "../config/settings.js"
import { findTailnetAddress, type InterfaceLister } from "../services/Binder.js"

export interface ClientFlags {
  readonly url?: string
  readonly token?: string
  readonly password?: string
}

export interface Target {
  readonly url: string
  /** Where the URL came from, e.g. "--url", "gateway.remote.url", "local (gateway.port)". */
  readonly source: string
  readonly token?: string
  readonly password?: string
  readonly configPath: string
  readonly remote: boolean
}

const first = <A>(...values: Array<A | undefined>): A | undefined => values.find((v) => v !== undefined && v !== "")

const validateUrl = (url: string, from: string): string => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError({ message: `${from}: not a URL: ${JSON.stringify(url)} (expected ws://host:port or wss://host)` })
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new ConfigError({ message: `${from}: expected a ws:// or wss:// URL, got ${parsed.protocol}// (e.g. ws://127.0.0.1:18789)` })
  }
  return url
}

/**
 * Where a Gateway on this machine answers: 127.0.0.1, except for binds that leave loopback
 * unbound (tailnet: the Tailscale address; custom: customBindHost).
 */
const localHost = (g: NonNullable<LoadedConfig["file"]["gateway"]>, interfaces: InterfaceLister): { host: string; why?: string } => {
  if (g.bind === "tailnet") {
    const address = findTailnetAddress(interfaces)
    if (address === undefined) {
      throw new ConfigError({ message: 'gateway.bind is "tailnet" but this machine has no Tailscale address, so the local Gateway cannot be reached: start Tailscale, or pass --url' })
    }
    return { host: address, why: 'gateway.bind "tailnet"' }
  }
  if (g.bind === "custom" && g.customBindHost !== undefined && net.isIP(g.customBindHost) !== 0 && !["0.0.0.0", "::"].includes(g.customBindHost)) {
    return { host: g.customBindHost, why: 'gateway.bind "custom"' }
  }
  return { host: "127.0.0.1" }
}

export const resolveTarget = (loaded: LoadedConfig, env: Env, flags: ClientFlags, interfaces: InterfaceLister = os.networkInterfaces): Target => {
  const g = loaded.file.gateway ?? {}
  const configPath = loaded.configPath
  if (flags.url !== undefined) {
    // Never send the configured secret to a URL given on the command line.
    if (flags.token === undefined && flags.password === undefined) {
      throw new ConfigError({
        message: "gateway url override requires explicit credentials: pass --token or --password with --url (the configured token is never sent to an overridden URL)"
      })
    }
    return { url: validateUrl(flags.url, "--url"), source: "--url", token: flags.token, password: flags.password, configPath, remote: true }
  }
  if (env.OPENCLAW_GATEWAY_URL !== undefined && env.OPENCLAW_GATEWAY_URL !== "") {
    return {
      url: validateUrl(env.OPENCLAW_GATEWAY_URL, "OPENCLAW_GATEWAY_URL"),
      source: "OPENCLAW_GATEWAY_URL",
      token: first(flags.token, env.OPENCLAW_GATEWAY_TOKEN),
      password: first(flags.password, env.OPENCLAW_GATEWAY_PASSWORD),
      configPath,
      remote: true
    }
  }
  if (g.mode === "remote") {
    if (g.remote?.url === undefined) {
      throw new ConfigError({
        message: `gateway.mode is "remote" but gateway.remote.url is not set in ${configPath}: set it (e.g. "ws://127.0.0.1:18789" through an SSH tunnel), or pass --url`
      })
    }
    return {
      url: validateUrl(g.remote.url, "gateway.remote.url"),
      source: "gateway.remote.url",
      token: first(flags.token, g.remote.token, env.OPENCLAW_GATEWAY_TOKEN, g.auth?.token),
      password: first(flags.password, g.remote.password, env.OPENCLAW_GATEWAY_PASSWORD, g.auth?.password),
      configPath,
      remote: true
    }
  }
  const port = parsePortEnv(env.OPENCLAW_GATEWAY_PORT, "OPENCLAW_GATEWAY_PORT") ?? g.port ?? DEFAULT_PORT
  const scheme = g.tls?.enabled ? "wss" : "ws"
  const { host, why } = localHost(g, interfaces)
  const portFrom = env.OPENCLAW_GATEWAY_PORT ? "OPENCLAW_GATEWAY_PORT" : g.port !== undefined ? "gateway.port" : "default port"
  return {
    url: `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    source: `local (${why === undefined ? portFrom : `${why}, ${portFrom}`})`,
    token: first(flags.token, env.OPENCLAW_GATEWAY_TOKEN, g.auth?.token),
    password: first(flags.password, env.OPENCLAW_GATEWAY_PASSWORD, g.auth?.password),
    configPath,
    remote: false
  }
}

/** Loopback, RFC 1918, link-local, CGNAT/Tailscale (100.64/10), IPv6 ULA and link-local. */
export const isPrivateAddress = (address: string): boolean => {
  const a = address.toLowerCase().replace(/^::ffff:/, "")
  if (net.isIPv4(a)) {
    const [x, y] = a.split(".").map(Number) as [number, number]
    return x === 127 || x === 10 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 169 && y === 254) || (x === 100 && y >= 64 && y <= 127)
  }
  if (net.isIPv6(a)) return a === "::1" || /^f[cd]/.test(a) || /^fe[89ab]/.test(a)
  return false
}

/** Names that only resolve inside a LAN or tailnet. */
const isPrivateName = (host: string): boolean => host === "localhost" || /\.(local|ts\.net|localhost)$/i.test(host)

/**
 * Refuses plaintext ws:// to anything that is not loopback or a private/tailnet address or name:
 * the token would cross the internet in the clear. OPENCLAW_ALLOW_INSECURE_PRIVATE_WS=1 allows
 * other names the user knows to be private (a LAN DNS name, say).
 */
export const checkPlaintext = (url: string, env: Env = {}): void => {
  const parsed = new URL(url)
  if (parsed.protocol !== "ws:") return
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase()
  if (net.isIP(host) ? isPrivateAddress(host) : isPrivateName(host)) return
  if (!net.isIP(host) && env.OPENCLAW_ALLOW_INSECURE_PRIVATE_WS === "1") return
  throw new ConfigError({
    message: `${url} uses plaintext ws:// to a non-loopback address; the token would travel unencrypted. Use an SSH tunnel (ssh -N -L 18789:127.0.0.1:18789 user@host, then ws://127.0.0.1:18789), Tailscale Serve (wss://<host>.ts.net), or wss:// with gateway.remote.tlsFingerprint${net.isIP(host) ? "" : "; if this name is on your private network, set OPENCLAW_ALLOW_INSECURE_PRIVATE_WS=1"}`
  })
}
