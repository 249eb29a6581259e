/**
 * `openclaw security audit`: reads the effective config (file + environment + flags) and lists
 * what makes this Gateway unsafe, each with a severity and the fix. Unlike start-up, which
 * refuses unsafe settings, the audit reports every problem at once and never throws for them.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import type { Env, LoadedConfig } from "../../config/load.js"
import {
  GENERATE_ADVICE,
  isObviousSecret,
  MIN_PASSWORD_LENGTH,
  MIN_TOKEN_LENGTH
} from "../../config/secret-strength.js"
import { effectiveTlsFiles, isUnusableSecret, type ServerFlags } from "../../config/settings.js"
import { isPrivateAddress } from "../../client/target.js"

export type Severity = "critical" | "warn"

export interface Finding {
  readonly id: string
  readonly severity: Severity
  readonly message: string
  readonly fix: string
}

export interface AuditReport {
  readonly configPath: string
  readonly effective: { readonly bind: string; readonly authMode: string; readonly tailscale: string }
  readonly findings: ReadonlyArray<Finding>
  readonly summary: { readonly critical: number; readonly warn: number }
}

/** Permission bits of a path, or undefined when it does not exist. */
export type StatMode = (p: string) => number | undefined
const statMode: StatMode = (p) => {
  try {
    return fs.statSync(p).mode & 0o777
  } catch {
    return undefined
  }
}

export const auditConfig = (
  loaded: LoadedConfig,
  env: Env,
  flags: ServerFlags = {},
  modeOf: StatMode = statMode
): AuditReport => {
  const g = loaded.file.gateway ?? {}
  const findings: Array<Finding> = []
  const add = (id: string, severity: Severity, message: string, fix: string) =>
    findings.push({ id, severity, message, fix })

  const bind = flags.bind ?? g.bind ?? "loopback"
  const tailscale = flags.tailscale ?? g.tailscale?.mode ?? "off"
  const token = flags.token ?? env.OPENCLAW_GATEWAY_TOKEN ?? g.auth?.token
  const password = flags.password ?? env.OPENCLAW_GATEWAY_PASSWORD ?? g.auth?.password
  const authMode = flags.auth ?? g.auth?.mode ?? (password !== undefined && token === undefined ? "password" : "token")
  const secret = authMode === "token" ? token : authMode === "password" ? password : undefined
  const hasAuth = authMode !== "none" && !isUnusableSecret(secret)
  const exposed = tailscale !== "off"
  const nonLoopback = bind !== "loopback"

  if (nonLoopback && !hasAuth) {
    add(
      "bind-without-auth",
      "critical",
      `gateway.bind "${bind}" exposes the Gateway beyond this machine with no usable ${authMode === "none" ? 'auth (gateway.auth.mode is "none")' : authMode}`,
      `set gateway.auth.mode "token" and a long random gateway.auth.token, or gateway.bind "loopback"`
    )
  }
  if (exposed && !hasAuth) {
    add(
      "exposure-without-auth",
      "critical",
      `gateway.tailscale.mode "${tailscale}" with no usable auth`,
      `set gateway.auth.mode "${tailscale === "funnel" ? "password" : "token"}" and its secret`
    )
  }
  if (authMode === "none" && !nonLoopback && !exposed) {
    add(
      "auth-none",
      "warn",
      'gateway.auth.mode is "none": any local process or web page can drive this Gateway',
      'set gateway.auth.mode "token" (openclaw gateway run creates a token on first run)'
    )
  }
  if (tailscale === "funnel" && authMode !== "password") {
    add(
      "funnel-without-password",
      "critical",
      `gateway.tailscale.mode "funnel" makes the Gateway public, but gateway.auth.mode is "${authMode}"`,
      'set gateway.auth.mode "password" and a strong gateway.auth.password'
    )
  }
  if (exposed && nonLoopback) {
    add(
      "exposure-with-non-loopback-bind",
      "critical",
      `gateway.tailscale.mode "${tailscale}" with gateway.bind "${bind}": the port is reachable around the proxy`,
      'set gateway.bind "loopback"'
    )
  }
  // Start-up refuses these once other machines can reach the Gateway (config/secret-strength.ts).
  const reachable = nonLoopback || exposed
  const refused = !reachable
    ? ""
    : bind === "auto" && !exposed
      ? ' (gateway run refuses it if "auto" falls back to every interface)'
      : " (gateway run refuses to start with it)"
  if (authMode === "token" && token !== undefined && !isUnusableSecret(token) && token.length < MIN_TOKEN_LENGTH) {
    add(
      "short-token",
      reachable ? "critical" : "warn",
      `gateway.auth.token is ${token.length} characters (fewer than ${MIN_TOKEN_LENGTH})${reachable ? ` on a Gateway reachable from other machines${refused}` : ""}`,
      `use a long random token, e.g. ${GENERATE_ADVICE.token}`
    )
  }
  // Tailnet bind: identity is `tailscale whois` of the real TCP peer (nothing to forge), so no finding.
  // Other non-loopback binds: identity headers count only from a proxy on this host (Serve needs loopback).
  if (
    authMode === "password" &&
    password !== undefined &&
    !isUnusableSecret(password) &&
    password.length < MIN_PASSWORD_LENGTH &&
    reachable
  ) {
    add(
      "short-password",
      "critical",
      `gateway.auth.password is ${password.length} characters (fewer than ${MIN_PASSWORD_LENGTH}) on a Gateway reachable from ${tailscale === "funnel" ? "the public internet (Tailscale Funnel)" : "other machines"}${refused}`,
      `use a long passphrase or a random one, e.g. ${GENERATE_ADVICE.password}`
    )
  }
  const long = secret !== undefined && secret.length >= (authMode === "token" ? MIN_TOKEN_LENGTH : MIN_PASSWORD_LENGTH)
  if ((authMode === "token" || authMode === "password") && long && isObviousSecret(secret!)) {
    add(
      "weak-secret",
      reachable ? "critical" : "warn",
      `gateway.auth.${authMode} is a well-known, repeated or sequential value${refused}`,
      `use a random one, e.g. ${GENERATE_ADVICE[authMode]}`
    )
  }
  if ((g.auth?.allowTailscale ?? false) && nonLoopback && bind !== "tailnet") {
    add(
      "tailscale-identity-with-non-loopback-bind",
      "warn",
      `gateway.auth.allowTailscale with gateway.bind "${bind}": Tailscale identity is only accepted from a proxy on this host (Tailscale Serve, which needs a loopback bind), so clients on the network still need the ${authMode === "password" ? "password" : "token"}; only local processes can use it`,
      'set gateway.auth.allowTailscale false; or use gateway.bind "tailnet" (identity from tailscale whois of the real peer) or gateway.bind "loopback" with gateway.tailscale.mode "serve"'
    )
  }
  if (nonLoopback && bind !== "tailnet" && !(g.tls?.enabled ?? false)) {
    add(
      "plaintext-non-loopback",
      "warn",
      `gateway.bind "${bind}" without TLS: tokens and chats cross the network in the clear`,
      'set gateway.tls.enabled true, or use an SSH tunnel or Tailscale Serve with gateway.bind "loopback"'
    )
  }
  if (g.nodes?.browser?.allowFunnel === true) {
    add(
      "browser-allow-funnel",
      tailscale === "funnel" ? "critical" : "warn",
      `gateway.nodes.browser.allowFunnel lets connections from the public internet (Tailscale Funnel) drive a node's browser${tailscale === "funnel" ? ", and Funnel is on" : ""}`,
      "set gateway.nodes.browser.allowFunnel false; reach browser control through Tailscale Serve, the tailnet or an SSH tunnel"
    )
  }
  const remoteUrl = g.remote?.url
  if (remoteUrl !== undefined) {
    try {
      const u = new URL(remoteUrl)
      const host = u.hostname.replace(/^\[|\]$/g, "")
      if (u.protocol === "ws:" && net.isIP(host) !== 0 && !isPrivateAddress(host)) {
        add(
          "remote-plaintext-public",
          "warn",
          `gateway.remote.url ${remoteUrl} is plaintext ws:// to a public address (the CLI refuses to send the token there)`,
          "use wss:// with gateway.remote.tlsFingerprint, an SSH tunnel, or Tailscale Serve"
        )
      }
    } catch {
      // An invalid URL is reported by the commands that use it.
    }
  }
  const provider = loaded.file.agent?.provider
  if (provider?.kind === "openai" && provider.apiKeyEnv !== undefined && provider.baseUrl !== undefined) {
    try {
      const u = new URL(provider.baseUrl)
      const host = u.hostname.replace(/^\[|\]$/g, "")
      const local =
        /(^|\.)(localhost|local|lan|ts\.net|internal)$/i.test(host) || (net.isIP(host) !== 0 && isPrivateAddress(host))
      if (u.protocol === "http:" && !local) {
        add(
          "agent-key-plaintext",
          "warn",
          `agent.provider.baseUrl ${provider.baseUrl} is plain http:// to a non-private host: the API key in ${provider.apiKeyEnv} crosses the network in the clear`,
          "use an https:// baseUrl"
        )
      }
    } catch {
      // An invalid URL is refused at start-up with its own message.
    }
  }
  if (g.remote?.transport === "ssh" && g.remote.sshHostKeyPolicy === "openssh") {
    add(
      "ssh-host-key-policy-openssh",
      "warn",
      'gateway.remote.sshHostKeyPolicy "openssh": the SSH host key is checked only as your ssh config says (it may accept an unknown key)',
      'set gateway.remote.sshHostKeyPolicy "strict" after recording the host key (connect once with ssh and verify the fingerprint)'
    )
  }
  if (g.tls?.enabled) {
    const keyFile = effectiveTlsFiles(g.tls, loaded.stateDir, env).key
    const keyMode = modeOf(keyFile)
    if (keyMode !== undefined && (keyMode & 0o077) !== 0) {
      add(
        "tls-key-permissions",
        (keyMode & 0o004) !== 0 ? "critical" : "warn",
        `the Gateway's TLS key ${keyFile} is readable by other users (mode ${keyMode.toString(8)})`,
        `chmod 600 ${keyFile}`
      )
    }
  }
  const configMode = modeOf(loaded.configPath)
  if (configMode !== undefined && (configMode & 0o077) !== 0) {
    const worldReadable = (configMode & 0o004) !== 0
    add(
      "config-permissions",
      worldReadable && (token !== undefined || password !== undefined) ? "critical" : "warn",
      `${loaded.configPath} is readable by ${worldReadable ? "every user" : "its group"} (mode ${configMode.toString(8)})`,
      `chmod 600 ${loaded.configPath}`
    )
  }
  const stateMode = modeOf(loaded.stateDir)
  if (stateMode !== undefined && (stateMode & 0o077) !== 0) {
    add(
      "state-dir-permissions",
      "warn",
      `${loaded.stateDir} is open to other users (mode ${stateMode.toString(8)})`,
      `chmod 700 ${loaded.stateDir}`
    )
  }

  return {
    configPath: loaded.configPath,
    effective: { bind, authMode, tailscale },
    findings,
    summary: {
      critical: findings.filter((f) => f.severity === "critical").length,
      warn: findings.filter((f) => f.severity === "warn").length
    }
  }
}

export const formatAudit = (report: AuditReport): string => {
  const head = `Security audit of ${report.configPath} (bind ${report.effective.bind}, auth ${report.effective.authMode}, tailscale ${report.effective.tailscale})`
  if (report.findings.length === 0) return `${head}\n  No problems found.`
  const lines = report.findings.flatMap((f) => [
    `  ${f.severity.toUpperCase().padEnd(8)} ${f.message}`,
    `           fix: ${f.fix}`
  ])
  return [head, ...lines, `${report.summary.critical} critical, ${report.summary.warn} warning(s)`].join("\n")
}
