/**
 * Resolving what the Gateway server runs with, from flags > environment > file > defaults,
 * and refusing unsafe combinations (shared/security.md section 2) before anything listens.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Redacted } from "effect"
import { ConfigError, type Env, type LoadedConfig } from "./load.js"
import type { AuthMode, BindMode, ConfigFile, TailscaleMode } from "./schema.js"
import { exposurePhrase, secretWeakness, weakSecretMessage } from "./secret-strength.js"

export const DEFAULT_PORT = 18789

export interface ServerFlags {
  readonly port?: number
  readonly bind?: BindMode
  readonly auth?: AuthMode
  readonly token?: string
  readonly tokenFile?: string
  readonly password?: string
  readonly passwordFile?: string
  readonly tailscale?: TailscaleMode
  readonly tailscaleResetOnExit?: boolean
  readonly verbose?: boolean
}

export interface RateLimitSettings {
  readonly maxAttempts: number
  readonly windowMs: number
  readonly lockoutMs: number
}

/** The agent's provider: the built-in offline `echo`, or an OpenAI-compatible chat-completions endpoint. */
export type AgentProviderSettings =
  | { readonly kind: "echo" }
  | {
      readonly kind: "openai"
      readonly baseUrl: string
      readonly model: string
      readonly apiKeyEnv: string | undefined
      /** The value of apiKeyEnv in the environment the settings were resolved with (the CLI's). */
      readonly apiKey?: Redacted.Redacted<string>
    }

export interface AgentSettings {
  readonly provider: AgentProviderSettings
}

export const DEFAULT_AGENT: AgentSettings = { provider: { kind: "echo" } }

/** Resolves the top-level `agent` section; an incomplete openai provider is a ConfigError naming the key. */
export const resolveAgentSettings = (file: ConfigFile, configPath: string, env: Env = {}): AgentSettings => {
  const p = file.agent?.provider
  if (p === undefined || (p.kind ?? "echo") === "echo") return DEFAULT_AGENT
  const missing = (["baseUrl", "model"] as const).filter((k) => p[k] === undefined || p[k]!.trim() === "")
  if (missing.length > 0) {
    throw new ConfigError({
      message: `agent.provider.kind is "openai" but ${missing.map((k) => `agent.provider.${k}`).join(" and ")} ${missing.length > 1 ? "are" : "is"} not set in ${configPath} (e.g. baseUrl "https://api.openai.com/v1" or "http://127.0.0.1:11434/v1" for Ollama, model "gpt-4o-mini")`
    })
  }
  let url: URL
  try {
    url = new URL(p.baseUrl!)
  } catch {
    throw new ConfigError({
      message: `agent.provider.baseUrl: expected an http(s) URL like "https://api.openai.com/v1", got ${JSON.stringify(p.baseUrl)}`
    })
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError({
      message: `agent.provider.baseUrl: expected an http(s) URL, got ${JSON.stringify(p.baseUrl)}`
    })
  }
  if (p.apiKeyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.apiKeyEnv)) {
    throw new ConfigError({
      message: `agent.provider.apiKeyEnv: expected the name of an environment variable (like OPENAI_API_KEY), got ${JSON.stringify(p.apiKeyEnv)}; never put the key itself in the config`
    })
  }
  const key = p.apiKeyEnv === undefined ? undefined : env[p.apiKeyEnv]
  return {
    provider: {
      kind: "openai",
      baseUrl: p.baseUrl!.replace(/\/+$/, ""),
      model: p.model!,
      apiKeyEnv: p.apiKeyEnv,
      ...(key === undefined || key.trim() === "" ? {} : { apiKey: Redacted.make(key) })
    }
  }
}

export interface GatewaySettings {
  readonly configPath: string
  /** An absolute path; anything else (IN_MEMORY) keeps every piece of state in memory: see stateDirOnDisk. */
  readonly stateDir: string
  readonly port: number
  readonly bind: BindMode
  readonly customBindHost: string | undefined
  readonly auth: {
    readonly mode: AuthMode
    readonly token: Redacted.Redacted<string> | undefined
    readonly password: Redacted.Redacted<string> | undefined
    readonly allowTailscale: boolean
    readonly rateLimit: RateLimitSettings
    /** Where the secret in force came from, for status output (never the value). */
    readonly secretSource: string | undefined
    /** The absolute path of --token-file or --password-file when that is the source (rotation writes there). */
    readonly secretFile?: string
  }
  readonly tailscale: {
    readonly mode: TailscaleMode
    readonly resetOnExit: boolean
    /** The tailscale CLI; default: `tailscale` on PATH, then the macOS app's. */
    readonly binary?: string
    /** Defaults: TAILSCALE_TUNING. */
    readonly timeoutMs?: number
    readonly retryMs?: number
    readonly retryMaxMs?: number
    readonly checkMs?: number
  }
  /** The audit log's rotation; defaults in services/audit-log/AuditLog.ts (5 MiB, 3 older files). */
  readonly audit?: { readonly maxBytes?: number; readonly keep?: number }
  /**
   * The environment the settings were resolved with, for `${VAR}` when the config file is read
   * again (secret reload, the doctor method). The CLI's is process.env; a config built in code has
   * only the one its caller passed.
   */
  readonly env?: Env
  readonly controlUi: {
    readonly enabled: boolean
    readonly basePath: string
    readonly allowedOrigins: ReadonlyArray<string>
  }
  readonly tls: {
    readonly enabled: boolean
    readonly autoGenerate: boolean
    readonly certPath?: string
    readonly keyPath?: string
  }
  readonly nodes: NodesSettings
  readonly handshakeTimeoutMs: number
  readonly tickIntervalMs: number
  readonly verbose: boolean
  readonly agent: AgentSettings
}

export interface NodesSettings {
  readonly pairing: {
    /**
     * Pair a node without asking when it runs on the Gateway's own machine: loopback peer, no
     * proxy headers, and its key is the one in this state dir's identity/ (so a tunnel or proxy
     * never qualifies). Default true.
     */
    readonly autoApproveLocal: boolean
  }
  readonly browser: {
    readonly mode: "auto" | "manual" | "off"
    readonly node: string | undefined
    readonly allowFunnel: boolean
  }
}

/** The state dir of settings that keep their state in memory (layerTest, layerConfig without stateDir). */
export const IN_MEMORY = "(in memory)"

/** Where state may be written: the state dir when it is an absolute path, else nowhere (memory). */
export const stateDirOnDisk = (settings: { readonly stateDir: string }): string | undefined =>
  path.isAbsolute(settings.stateDir) ? settings.stateDir : undefined

/** Defaults of the Tailscale knobs (gateway.tailscale.timeoutMs, retryMs, retryMaxMs, checkMs). */
export const TAILSCALE_TUNING = { timeoutMs: 10_000, retryMs: 5_000, retryMaxMs: 300_000, checkMs: 30_000 } as const

export const defaultNodesSettings = (): NodesSettings => ({
  pairing: { autoApproveLocal: true },
  browser: { mode: "auto", node: undefined, allowFunnel: false }
})

/** Where the auto-generated TLS certificate and key live (see services/gateway/tls.ts). */
export const tlsFiles = (stateDir: string) => {
  const dir = path.join(stateDir, "gateway", "tls")
  return { dir, cert: path.join(dir, "gateway-cert.pem"), key: path.join(dir, "gateway-key.pem") }
}

/** The certificate and key the Gateway uses: gateway.tls.certPath/keyPath as given in the file, else the auto-generated pair. */
export const effectiveTlsFiles = (
  tls: { readonly certPath?: string; readonly keyPath?: string } | undefined,
  stateDir: string,
  env: Env
) => {
  const auto = tlsFiles(stateDir)
  return {
    cert: tls?.certPath !== undefined ? expandHome(tls.certPath, env) : auto.cert,
    key: tls?.keyPath !== undefined ? expandHome(tls.keyPath, env) : auto.key
  }
}

/** `~/x` -> $HOME/x; other paths as given, made absolute. */
export const expandHome = (p: string, env: Env): string =>
  path.resolve(
    p === "~" || p.startsWith("~/")
      ? path.join(env.HOME && env.HOME.length > 0 ? env.HOME : os.homedir(), p.slice(1))
      : p
  )

/** Empty, blank, or the strings a shell or template leaves behind when a variable was unset. */
export const isUnusableSecret = (s: string | undefined): boolean =>
  s === undefined || s.trim().length === 0 || ["undefined", "null"].includes(s.trim().toLowerCase())

/** "" or "/x" without a trailing slash. */
export const normaliseBasePath = (p: string | undefined): string => {
  const trimmed = (p ?? "").trim().replace(/^\/+|\/+$/g, "")
  return trimmed.length === 0 ? "" : `/${trimmed}`
}

export const parsePortEnv = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined || value.trim() === "") return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new ConfigError({
      message: `${name}: expected an integer port between 1 and 65535, got ${JSON.stringify(value)}`
    })
  }
  return n
}

/** A path as a shell reads it back (single-quoted unless plain). */
const forShell = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`)

/**
 * A secret kept in a file (--token-file, --password-file): its first line, without the newline.
 * A regular file other users may read is refused (they could sign in as the owner): the message
 * gives the chmod. Pipes (`--token-file <(...)`) and Windows' ACLs are not judged by mode.
 */
const readSecretFile = (file: string, flag: string): string => {
  try {
    const st = fs.statSync(file)
    if (process.platform !== "win32" && st.isFile() && (st.mode & 0o077) !== 0) {
      const who = (st.mode & 0o007) !== 0 ? "every local user" : "its group"
      throw new ConfigError({
        message: `${flag}: ${file} is open to ${who} (mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}); make it private with \`chmod 600 ${forShell(file)}\` and start again`
      })
    }
    return fs.readFileSync(file, "utf8").replace(/\r?\n$/, "")
  } catch (e) {
    if (e instanceof ConfigError) throw e
    throw new ConfigError({
      message: `${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`
    })
  }
}

/** Picks the first defined value and remembers where it came from. */
const firstOf = <A>(...candidates: Array<readonly [A | undefined, string]>): [A, string] | [undefined, undefined] => {
  for (const [value, source] of candidates) if (value !== undefined) return [value, source]
  return [undefined, undefined]
}

/** A positive integer from an environment knob; anything else is ignored (the file's value or the default holds). */
const positiveIntEnv = (value: string | undefined): number | undefined => {
  const n = value === undefined ? NaN : Number(value)
  return Number.isInteger(n) && n > 0 ? n : undefined
}

const nonBlank = (s: string | undefined) => (s !== undefined && s.trim().length > 0 ? s.trim() : undefined)

export interface ResolveOptions {
  /**
   * A config built in code: paths in it must be absolute (or `~/...` with HOME in `env`), since
   * neither the working directory nor the home directory is the caller's unless it says so.
   */
  readonly inCode?: boolean
}

/** A path from the config: `~` expanded and made absolute, or (in code) refused unless it already is. */
const settingPath = (p: string, key: string, env: Env, options: ResolveOptions): string => {
  if (options.inCode) {
    const home = nonBlank(env.HOME)
    if ((p === "~" || p.startsWith("~/")) && home !== undefined) return path.join(home, p.slice(1))
    if (!path.isAbsolute(p)) {
      throw new ConfigError({
        message: `${key}: expected an absolute path in a config built in code, got ${JSON.stringify(p)} (or pass env with HOME for ~/...)`
      })
    }
    return p
  }
  return expandHome(p, env)
}

/** Throws ConfigError (exit 78) for any unsafe or incomplete combination. */
export const resolveServerSettings = (
  loaded: LoadedConfig,
  env: Env,
  flags: ServerFlags,
  options: ResolveOptions = {}
): GatewaySettings => {
  const g = loaded.file.gateway ?? {}
  const port = flags.port ?? parsePortEnv(env.OPENCLAW_GATEWAY_PORT, "OPENCLAW_GATEWAY_PORT") ?? g.port ?? DEFAULT_PORT
  const bind = flags.bind ?? g.bind ?? "loopback"

  const [token, tokenSource] = firstOf<string>(
    [flags.token, "--token"],
    [flags.tokenFile === undefined ? undefined : readSecretFile(flags.tokenFile, "--token-file"), "--token-file"],
    [env.OPENCLAW_GATEWAY_TOKEN, "OPENCLAW_GATEWAY_TOKEN"],
    [g.auth?.token, "gateway.auth.token"]
  )
  const [password, passwordSource] = firstOf<string>(
    [flags.password, "--password"],
    [
      flags.passwordFile === undefined ? undefined : readSecretFile(flags.passwordFile, "--password-file"),
      "--password-file"
    ],
    [env.OPENCLAW_GATEWAY_PASSWORD, "OPENCLAW_GATEWAY_PASSWORD"],
    [g.auth?.password, "gateway.auth.password"]
  )
  const explicitMode = flags.auth ?? g.auth?.mode
  // Unset mode: password when only a password is given, token otherwise (as OpenClaw does).
  const authMode: AuthMode = explicitMode ?? (password !== undefined && token === undefined ? "password" : "token")

  if (authMode === "token" && isUnusableSecret(token)) {
    throw new ConfigError({
      message:
        token === undefined
          ? `gateway.auth.mode is "token" but no token is set: run \`openclaw gateway token rotate\` to write a random one to gateway.auth.token in ${loaded.configPath}, or use OPENCLAW_GATEWAY_TOKEN or --token-file (gateway.remote.token is the CLI's credential for a remote Gateway and does not configure this server)`
          : `${tokenSource} is blank or a placeholder ("undefined"/"null"); set a real secret (e.g. from \`openssl rand -hex 24\`)`
    })
  }
  if (authMode === "password" && isUnusableSecret(password)) {
    throw new ConfigError({
      message:
        password === undefined
          ? `gateway.auth.mode is "password" but no password is set: run \`openclaw gateway password set\` to write one to gateway.auth.password in ${loaded.configPath}, or use OPENCLAW_GATEWAY_PASSWORD, --password or --password-file`
          : `${passwordSource} is blank or a placeholder ("undefined"/"null"); set a real password`
    })
  }

  const tailscaleMode = flags.tailscale ?? g.tailscale?.mode ?? "off"
  const exposed = tailscaleMode !== "off"
  if (bind === "custom") {
    const host = g.customBindHost
    if (host === undefined || net.isIP(host.trim()) === 0) {
      throw new ConfigError({
        message: `gateway.customBindHost must be an IP address when gateway.bind is "custom", got ${host === undefined ? "nothing" : JSON.stringify(host)}`
      })
    }
  }
  if (authMode === "none" && (bind !== "loopback" || exposed)) {
    throw new ConfigError({
      message: exposed
        ? `gateway.auth.mode "none" cannot be used with gateway.tailscale.mode "${tailscaleMode}": set gateway.auth.mode to "token" or "password" (or --auth)`
        : `gateway.auth.mode "none" is only allowed with gateway.bind "loopback" (got "${bind}"): set gateway.auth.mode to "token" or "password", or bind to loopback`
    })
  }
  if (tailscaleMode === "funnel" && authMode !== "password") {
    throw new ConfigError({
      message: `gateway.tailscale.mode "funnel" makes the Gateway public and needs gateway.auth.mode "password" (got "${authMode}"): set gateway.auth.mode and gateway.auth.password (or --auth password --password-file FILE)`
    })
  }
  if (exposed && bind !== "loopback") {
    throw new ConfigError({
      message: `gateway.tailscale.mode "${tailscaleMode}" proxies to the loopback port and needs gateway.bind "loopback" (got "${bind}"): set gateway.bind to "loopback" (or --bind loopback)`
    })
  }

  // Reachable from other machines: the secret must stand up to guessing ("auto" is checked by
  // Binder, only if it falls back to every interface).
  const customHost = g.customBindHost?.trim() ?? ""
  const customLoopback = bind === "custom" && (/^127\./.test(customHost) || customHost === "::1")
  if (
    (exposed || bind === "lan" || bind === "tailnet" || (bind === "custom" && !customLoopback)) &&
    (authMode === "token" || authMode === "password")
  ) {
    const secret = authMode === "token" ? token! : password!
    const weakness = secretWeakness(authMode, secret)
    if (weakness !== undefined) {
      const source = (authMode === "token" ? tokenSource : passwordSource)!
      throw new ConfigError({
        message: weakSecretMessage(
          authMode,
          source,
          weakness,
          exposurePhrase(bind, tailscaleMode, g.customBindHost?.trim())
        )
      })
    }
  }

  const tls = g.tls ?? {}
  if ((tls.certPath === undefined) !== (tls.keyPath === undefined)) {
    throw new ConfigError({
      message: `gateway.tls.certPath and gateway.tls.keyPath go together: set both (your certificate and its key), or neither (gateway.tls.autoGenerate makes a self-signed pair)`
    })
  }
  if (tls.enabled && tls.autoGenerate === false && tls.certPath === undefined) {
    throw new ConfigError({
      message: `gateway.tls.enabled is true with gateway.tls.autoGenerate false, but no certificate is configured: set gateway.tls.certPath and gateway.tls.keyPath, or set gateway.tls.autoGenerate to true`
    })
  }

  return {
    configPath: loaded.configPath,
    stateDir: loaded.stateDir,
    port,
    bind,
    customBindHost: g.customBindHost?.trim(),
    auth: {
      mode: authMode,
      token: authMode === "token" && token !== undefined ? Redacted.make(token) : undefined,
      password: authMode === "password" && password !== undefined ? Redacted.make(password) : undefined,
      // Default: on for Serve with token auth; off for password mode and Funnel (security.md section 3).
      allowTailscale: g.auth?.allowTailscale ?? (tailscaleMode === "serve" && authMode === "token"),
      rateLimit: {
        maxAttempts: g.auth?.rateLimit?.maxAttempts ?? 10,
        windowMs: g.auth?.rateLimit?.windowMs ?? 60_000,
        lockoutMs: g.auth?.rateLimit?.lockoutMs ?? 300_000
      },
      secretSource: authMode === "token" ? tokenSource : authMode === "password" ? passwordSource : undefined,
      ...(authMode === "token" && tokenSource === "--token-file" && flags.tokenFile !== undefined
        ? { secretFile: path.resolve(flags.tokenFile) }
        : authMode === "password" && passwordSource === "--password-file" && flags.passwordFile !== undefined
          ? { secretFile: path.resolve(flags.passwordFile) }
          : {})
    },
    // A public Funnel route never outlives the Gateway; a Serve route is kept unless asked (the tailnet is private).
    tailscale: {
      mode: tailscaleMode,
      resetOnExit: tailscaleMode === "funnel" || (flags.tailscaleResetOnExit ?? g.tailscale?.resetOnExit ?? false),
      ...definedOnly({
        binary: nonBlank(env.OPENCLAW_TAILSCALE_BIN) ?? g.tailscale?.binary,
        timeoutMs: positiveIntEnv(env.OPENCLAW_TAILSCALE_TIMEOUT_MS) ?? g.tailscale?.timeoutMs,
        retryMs: positiveIntEnv(env.OPENCLAW_TAILSCALE_RETRY_MS) ?? g.tailscale?.retryMs,
        retryMaxMs: positiveIntEnv(env.OPENCLAW_TAILSCALE_RETRY_MAX_MS) ?? g.tailscale?.retryMaxMs,
        checkMs: positiveIntEnv(env.OPENCLAW_TAILSCALE_CHECK_MS) ?? g.tailscale?.checkMs
      })
    },
    audit: definedOnly({
      maxBytes: positiveIntEnv(env.OPENCLAW_AUDIT_MAX_BYTES) ?? g.audit?.maxBytes,
      keep: positiveIntEnv(env.OPENCLAW_AUDIT_KEEP) ?? g.audit?.keep
    }),
    env,
    controlUi: {
      enabled: g.controlUi?.enabled ?? true,
      basePath: normaliseBasePath(g.controlUi?.basePath),
      allowedOrigins: g.controlUi?.allowedOrigins ?? []
    },
    tls: {
      enabled: g.tls?.enabled ?? false,
      autoGenerate: g.tls?.autoGenerate ?? true,
      certPath:
        tls.certPath === undefined ? undefined : settingPath(tls.certPath, "gateway.tls.certPath", env, options),
      keyPath: tls.keyPath === undefined ? undefined : settingPath(tls.keyPath, "gateway.tls.keyPath", env, options)
    },
    nodes: {
      pairing: { autoApproveLocal: g.nodes?.pairing?.autoApproveLocal ?? true },
      browser: {
        mode: g.nodes?.browser?.mode ?? (g.nodes?.browser?.node !== undefined ? "manual" : "auto"),
        node: g.nodes?.browser?.node,
        allowFunnel: g.nodes?.browser?.allowFunnel ?? false
      }
    },
    handshakeTimeoutMs: g.handshakeTimeoutMs ?? 10_000,
    tickIntervalMs: 30_000,
    verbose: flags.verbose ?? false,
    agent: resolveAgentSettings(loaded.file, loaded.configPath, env)
  }
}

/** The object without its undefined members (settings compared with toEqual stay as they were). */
const definedOnly = <A extends Record<string, unknown>>(o: A): { [K in keyof A]?: Exclude<A[K], undefined> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never
