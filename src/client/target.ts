/**
 * Which Gateway a CLI command talks to, with which credential, and why (for error messages).
 * Target: --url > --port (this machine) > OPENCLAW_GATEWAY_URL > gateway.remote.* (mode "remote") >
 * this machine: OPENCLAW_GATEWAY_PORT > the running Gateway's runtime record > gateway.port > 18789.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import { ConfigError, type Env, type LoadedConfig } from "../config/load.js"
import { readRuntimeRecord, type RuntimeRecord } from "../config/runtime-record.js"
import { DEFAULT_PORT, effectiveTlsFiles, expandHome, parsePortEnv } from "../config/settings.js"
import { findTailnetAddress, type InterfaceLister } from "../platform/tailnet-address.js"
import { parseSshTarget, type SshSpec } from "../services/ssh/SshTunnel.js"
import { certificateFingerprint } from "../platform/tls-fingerprint.js"
import { parseFingerprint } from "./tls-pin.js"

export interface ClientFlags {
  readonly url?: string
  /** A Gateway on this machine on this port (keeps the configured credential, unlike --url). */
  readonly port?: number
  readonly token?: string
  readonly password?: string
  readonly tlsFingerprint?: string
}

export interface Target {
  /**
   * The WebSocket URL. With transport "ssh" this is the URL on the remote host's loopback
   * (ws://127.0.0.1:<remotePort>); the client connects to the tunnel's local end instead.
   */
  readonly url: string
  /** SHA-256 pin (uppercase colon hex) replacing CA trust for wss://. */
  readonly tlsFingerprint?: string
  /** Where the pin came from ("--tls-fingerprint", "gateway.remote.tlsFingerprint", "local certificate"). */
  readonly pinSource?: string
  /** Set for gateway.remote.transport "ssh": every command opens (and closes) this tunnel. */
  readonly ssh?: SshSpec
  /** Where the URL came from, e.g. "--url", "gateway.remote.url", "local (gateway.port)". */
  readonly source: string
  readonly token?: string
  readonly password?: string
  readonly configPath: string
  readonly remote: boolean
  /** The runtime record of the local Gateway this target came from (`gateway run` writes it). */
  readonly running?: RuntimeRecord
}

const first = <A>(...values: Array<A | undefined>): A | undefined => values.find((v) => v !== undefined && v !== "")

/** --token / --password first; a credential flag replaces the configured secret of the other kind rather than travelling next to it. */
const credentialsFrom = (
  flags: ClientFlags,
  tokens: Array<string | undefined>,
  passwords: Array<string | undefined>
) => ({
  token: flags.password !== undefined && flags.token === undefined ? undefined : first(flags.token, ...tokens),
  password: flags.token !== undefined && flags.password === undefined ? undefined : first(flags.password, ...passwords)
})

const validateUrl = (url: string, from: string): string => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError({
      message: `${from}: not a URL: ${JSON.stringify(url)} (expected ws://host:port or wss://host)`
    })
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new ConfigError({
      message: `${from}: expected a ws:// or wss:// URL, got ${parsed.protocol}// (e.g. ws://127.0.0.1:18789)`
    })
  }
  return url
}

/**
 * Where a Gateway on this machine answers: 127.0.0.1, except for binds that leave loopback
 * unbound (tailnet: the Tailscale address; custom: customBindHost).
 */
const localHost = (
  g: NonNullable<LoadedConfig["file"]["gateway"]>,
  interfaces: InterfaceLister
): { host: string; why?: string } => {
  if (g.bind === "tailnet") {
    const address = findTailnetAddress(interfaces)
    if (address === undefined) {
      throw new ConfigError({
        message:
          'gateway.bind is "tailnet" but this machine has no Tailscale address, so the local Gateway cannot be reached: start Tailscale, or pass --url'
      })
    }
    return { host: address, why: 'gateway.bind "tailnet"' }
  }
  if (
    g.bind === "custom" &&
    g.customBindHost !== undefined &&
    net.isIP(g.customBindHost) !== 0 &&
    !["0.0.0.0", "::"].includes(g.customBindHost)
  ) {
    return { host: g.customBindHost, why: 'gateway.bind "custom"' }
  }
  return { host: "127.0.0.1" }
}

/** gateway.remote.{sshTarget, sshIdentity, sshHostKeyPolicy, sshKnownHostsFile, remotePort} -> SshSpec. */
export const resolveSshSpec = (loaded: LoadedConfig, env: Env): SshSpec => {
  const r = loaded.file.gateway?.remote ?? {}
  if (r.sshTarget === undefined) {
    const why =
      r.transport === "ssh"
        ? `gateway.remote.transport is "ssh" but`
        : "`openclaw gateway tunnel` needs gateway.remote.sshTarget (the SSH server the Gateway runs on), and"
    throw new ConfigError({
      message: `${why} gateway.remote.sshTarget is not set in ${loaded.configPath}: set it to user@host or user@host:port`
    })
  }
  const parsed = parseSshTarget(r.sshTarget)
  if (typeof parsed === "string") throw new ConfigError({ message: parsed })
  const file = (value: string | undefined, key: string, mustExist: boolean) => {
    if (value === undefined) return undefined
    const p = expandHome(value, env)
    if (mustExist && !fs.existsSync(p)) throw new ConfigError({ message: `${key}: no such file ${p}` })
    return p
  }
  return {
    target: r.sshTarget,
    ...parsed,
    identity: file(r.sshIdentity, "gateway.remote.sshIdentity", true),
    hostKeyPolicy: r.sshHostKeyPolicy ?? "strict",
    knownHostsFile: file(r.sshKnownHostsFile, "gateway.remote.sshKnownHostsFile", false),
    remotePort: r.remotePort ?? DEFAULT_PORT,
    // Tunnels are recorded there, so one left by a killed owner is cleaned up by the next (SshTunnel).
    stateDir: loaded.stateDir
  }
}

/**
 * Target plus TLS pin. The pin comes from --tls-fingerprint, else gateway.remote.tlsFingerprint
 * (remote mode), else, for a local TLS Gateway, its own certificate. A pin with ws:// is an error.
 */
export const resolveTarget = (
  loaded: LoadedConfig,
  env: Env,
  flags: ClientFlags,
  interfaces: InterfaceLister = os.networkInterfaces
): Target => {
  const configured = loaded.file.gateway?.remote?.tlsFingerprint
  // Validated whenever present, so a typo is reported before it matters.
  const configPin = configured === undefined ? undefined : parseFingerprint(configured, "gateway.remote.tlsFingerprint")
  const flagPin =
    flags.tlsFingerprint === undefined ? undefined : parseFingerprint(flags.tlsFingerprint, "--tls-fingerprint")
  const base = resolveBase(loaded, env, flags, interfaces)
  // The configured pin belongs to the configured remote, never to a URL from a flag or the environment.
  const configuredRemote = base.source === "gateway.remote.url" || base.ssh !== undefined
  let pin: { value: string; source: string } | undefined =
    flagPin !== undefined
      ? { value: flagPin, source: "--tls-fingerprint" }
      : configuredRemote && configPin !== undefined
        ? { value: configPin, source: "gateway.remote.tlsFingerprint" }
        : undefined
  if (pin === undefined && base.running?.tlsFingerprint !== undefined && base.url.startsWith("wss:")) {
    pin = {
      value: base.running.tlsFingerprint,
      source: `local certificate ${base.running.tlsCertPath ?? `of the running Gateway (PID ${base.running.pid})`}`
    }
  }
  if (pin === undefined && !base.remote && base.url.startsWith("wss:")) {
    const g = loaded.file.gateway ?? {}
    const certFile = effectiveTlsFiles(g.tls, loaded.stateDir, env).cert
    try {
      pin = { value: certificateFingerprint(fs.readFileSync(certFile)), source: `local certificate ${certFile}` }
    } catch {
      // Not generated yet (the Gateway never ran with TLS): connecting fails with a clear message.
    }
  }
  if (pin !== undefined && !base.url.startsWith("wss:")) {
    throw new ConfigError({
      message: `${pin.source} pins a TLS certificate, but the target ${base.url} (${base.source}) is plaintext ws://: use a wss:// URL, or drop the pin`
    })
  }
  return pin === undefined ? base : { ...base, tlsFingerprint: pin.value, pinSource: pin.source }
}

const resolveBase = (loaded: LoadedConfig, env: Env, flags: ClientFlags, interfaces: InterfaceLister): Target => {
  const g = loaded.file.gateway ?? {}
  const configPath = loaded.configPath
  if (flags.url !== undefined) {
    // Never send the configured secret to a URL given on the command line.
    if (flags.token === undefined && flags.password === undefined) {
      throw new ConfigError({
        message:
          "gateway url override requires explicit credentials: pass --token or --password with --url (the configured token is never sent to an overridden URL)"
      })
    }
    return {
      url: validateUrl(flags.url, "--url"),
      source: "--url",
      token: flags.token,
      password: flags.password,
      configPath,
      remote: true
    }
  }
  if (flags.port !== undefined) return localTarget(loaded, env, flags, interfaces)
  if (env.OPENCLAW_GATEWAY_URL !== undefined && env.OPENCLAW_GATEWAY_URL !== "") {
    return {
      url: validateUrl(env.OPENCLAW_GATEWAY_URL, "OPENCLAW_GATEWAY_URL"),
      source: "OPENCLAW_GATEWAY_URL",
      ...credentialsFrom(flags, [env.OPENCLAW_GATEWAY_TOKEN], [env.OPENCLAW_GATEWAY_PASSWORD]),
      configPath,
      remote: true
    }
  }
  if (g.mode === "remote" && g.remote?.transport === "ssh") {
    const ssh = resolveSshSpec(loaded, env)
    // Through the tunnel the remote Gateway is on its own loopback; wss:// when it has TLS (a pin is set).
    const scheme = g.remote.tlsFingerprint !== undefined || flags.tlsFingerprint !== undefined ? "wss" : "ws"
    return {
      url: `${scheme}://127.0.0.1:${ssh.remotePort}`,
      source: `gateway.remote.transport "ssh" (${ssh.target})`,
      ...credentialsFrom(
        flags,
        [g.remote.token, env.OPENCLAW_GATEWAY_TOKEN, g.auth?.token],
        [g.remote.password, env.OPENCLAW_GATEWAY_PASSWORD, g.auth?.password]
      ),
      configPath,
      remote: true,
      ssh
    }
  }
  if (g.mode === "remote") {
    if (g.remote?.url === undefined) {
      throw new ConfigError({
        message: `gateway.mode is "remote" but gateway.remote.url is not set in ${configPath}: set it (e.g. "ws://127.0.0.1:18789" through an SSH tunnel), set gateway.remote.transport "ssh" with gateway.remote.sshTarget, or pass --url`
      })
    }
    return {
      url: validateUrl(g.remote.url, "gateway.remote.url"),
      source: "gateway.remote.url",
      ...credentialsFrom(
        flags,
        [g.remote.token, env.OPENCLAW_GATEWAY_TOKEN, g.auth?.token],
        [g.remote.password, env.OPENCLAW_GATEWAY_PASSWORD, g.auth?.password]
      ),
      configPath,
      remote: true
    }
  }
  return localTarget(loaded, env, flags, interfaces)
}

/**
 * The Gateway on this machine. A running Gateway's record (same config file) is used unless an
 * explicit port (--port, OPENCLAW_GATEWAY_PORT) names another one: it knows the port and bind that
 * `gateway run` was given as flags, which the config file does not.
 */
const localTarget = (loaded: LoadedConfig, env: Env, flags: ClientFlags, interfaces: InterfaceLister): Target => {
  const g = loaded.file.gateway ?? {}
  const configPath = loaded.configPath
  const credentials = {
    ...credentialsFrom(
      flags,
      [env.OPENCLAW_GATEWAY_TOKEN, g.auth?.token],
      [env.OPENCLAW_GATEWAY_PASSWORD, g.auth?.password]
    ),
    configPath,
    remote: false
  }
  const explicitPort = flags.port ?? parsePortEnv(env.OPENCLAW_GATEWAY_PORT, "OPENCLAW_GATEWAY_PORT")
  const portFrom =
    flags.port !== undefined
      ? "--port"
      : env.OPENCLAW_GATEWAY_PORT
        ? "OPENCLAW_GATEWAY_PORT"
        : g.port !== undefined
          ? "gateway.port"
          : "default port"
  const running = readRuntimeRecord(loaded.stateDir)
  if (
    running !== undefined &&
    running.configPath === configPath &&
    (explicitPort === undefined || explicitPort === running.port)
  ) {
    // The record knows the host (tailnet, custom) and the certificate; an explicit port still names the source.
    const source =
      explicitPort === undefined ? `running Gateway, PID ${running.pid}, port ${running.port}` : `local (${portFrom})`
    return { url: running.url, source, ...credentials, running }
  }
  const port = explicitPort ?? g.port ?? DEFAULT_PORT
  const scheme = g.tls?.enabled ? "wss" : "ws"
  const { host, why } = localHost(g, interfaces)
  return {
    url: `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    source: `local (${why === undefined ? portFrom : `${why}, ${portFrom}`})`,
    ...credentials
  }
}

/** Loopback, RFC 1918, link-local, CGNAT/Tailscale (100.64/10), IPv6 ULA and link-local. */
export const isPrivateAddress = (address: string): boolean => {
  const a = address.toLowerCase().replace(/^::ffff:/, "")
  if (net.isIPv4(a)) {
    const [x, y] = a.split(".").map(Number) as [number, number]
    return (
      x === 127 ||
      x === 10 ||
      (x === 172 && y >= 16 && y <= 31) ||
      (x === 192 && y === 168) ||
      (x === 169 && y === 254) ||
      (x === 100 && y >= 64 && y <= 127)
    )
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
