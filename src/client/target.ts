/**
 * Which Gateway a CLI command talks to, with which credential, and why (for error messages).
 * Target: --url > OPENCLAW_GATEWAY_URL > gateway.remote.url (mode "remote") > local loopback.
 */
import { lookup } from "node:dns/promises"
import * as net from "node:net"
import { ConfigError, type Env, type LoadedConfig } from "../config/load.js"
import { DEFAULT_PORT, parsePortEnv } from "../config/settings.js"

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

export const resolveTarget = (loaded: LoadedConfig, env: Env, flags: ClientFlags): Target => {
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
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    source: env.OPENCLAW_GATEWAY_PORT ? "local (OPENCLAW_GATEWAY_PORT)" : g.port !== undefined ? "local (gateway.port)" : "local (default port)",
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

/**
 * Refuses plaintext ws:// to anything that is not loopback or a private/tailnet address:
 * the token would cross the internet in the clear.
 */
export const checkPlaintext = async (url: string): Promise<void> => {
  const parsed = new URL(url)
  if (parsed.protocol !== "ws:") return
  const host = parsed.hostname.replace(/^\[|\]$/g, "")
  const addresses = net.isIP(host) ? [host] : host === "localhost" ? ["127.0.0.1"] : await lookup(host, { all: true }).then((r) => r.map((x) => x.address), () => [] as Array<string>)
  // An unresolvable name is left to the connect attempt, which reports "host not found".
  if (addresses.length === 0 || addresses.every(isPrivateAddress)) return
  throw new ConfigError({
    message: `${url} uses plaintext ws:// to a non-loopback address; the token would travel unencrypted. Use an SSH tunnel (ssh -N -L 18789:127.0.0.1:18789 user@host, then ws://127.0.0.1:18789), Tailscale Serve (wss://<host>.ts.net), or wss:// with gateway.remote.tlsFingerprint`
  })
}
