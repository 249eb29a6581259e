/**
 * GatewayConfig: the settings the Gateway server runs with, resolved once from
 * flags > environment > config file > defaults, and already checked for unsafe combinations.
 * Nothing here reads process.env, the home or the working directory on its own: the environment
 * is whatever the caller passes (the CLI passes process.env; a config built in code, nothing).
 */
import { Console, Context, Effect, Layer, Redacted } from "effect"
import * as path from "node:path"
import { ConfigError, createDefaultConfig, type Env, loadConfig } from "../../config/load.js"
import { type ConfigFile, decodeConfigFile } from "../../config/schema.js"
import {
  DEFAULT_AGENT,
  DEFAULT_PORT,
  defaultNodesSettings,
  type GatewaySettings,
  IN_MEMORY,
  resolveServerSettings,
  type ServerFlags
} from "../../config/settings.js"

export { ConfigError, type ConfigFile, type GatewaySettings, type ServerFlags }
export type { Env } from "../../config/load.js"

/** Reading the config file as the CLI does. */
export interface LoadOptions {
  /** Finds the file (OPENCLAW_CONFIG_PATH, OPENCLAW_STATE_DIR, HOME) and overrides it (OPENCLAW_GATEWAY_*, ...). */
  readonly env: Env
  readonly flags?: ServerFlags
  /** First run: write a config with a fresh random token when none exists (what `gateway run` does). */
  readonly createIfMissing?: boolean
}

/** A config built in code: it uses what is given here and nothing else. */
export interface InCodeOptions {
  /**
   * Honour an environment as the CLI does (OPENCLAW_GATEWAY_PORT/TOKEN/PASSWORD, OPENCLAW_STATE_DIR,
   * OPENCLAW_TAILSCALE_*, OPENCLAW_AUDIT_*, HOME for `~/` paths, agent.provider.apiKeyEnv). Default: none.
   */
  readonly env?: Env
  /** Win over the config, as command-line flags do. */
  readonly flags?: ServerFlags
  /** An absolute path where state is kept (devices, sessions, audit log, TLS). Without one, all of it stays in memory. */
  readonly stateDir?: string
}

export class GatewayConfig extends Context.Tag("openclaw/GatewayConfig")<GatewayConfig, GatewaySettings>() {
  /** Loads and resolves; says where a first-run config was written (never the token itself). */
  static load = (options: LoadOptions): Effect.Effect<GatewaySettings, ConfigError> =>
    Effect.gen(function* () {
      const env = options.env
      let loaded = yield* loadConfig(env)
      if (!loaded.exists && options.createIfMissing) {
        loaded = yield* createDefaultConfig(loaded)
        yield* Console.log(
          `Created ${loaded.configPath} (mode 0600) with a new random gateway token (gateway.auth.token); local CLI commands read it from there.`
        )
      }
      return yield* Effect.try({
        try: () => resolveServerSettings(loaded, env, options.flags ?? {}),
        catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
      })
    })

  static layer = (options: LoadOptions) => Layer.effect(GatewayConfig, GatewayConfig.load(options))

  /**
   * Settings from a config object shaped like openclaw.json, for embedding: every key is optional
   * (defaults fill the rest), and it is decoded and checked for unsafe combinations exactly like
   * the file. Nothing is read from disk, no environment variable unless `options.env` is given,
   * and state is written only under `options.stateDir` (or OPENCLAW_STATE_DIR of `options.env`).
   */
  static fromConfig = (config: ConfigFile, options: InCodeOptions = {}): Effect.Effect<GatewaySettings, ConfigError> =>
    Effect.try({
      try: () => {
        const env = options.env ?? {}
        const decoded = decodeConfigFile(config)
        if (!decoded.ok)
          throw new ConfigError({ message: `invalid config:\n${decoded.problems.map((p) => `  ${p}`).join("\n")}` })
        const given = options.stateDir ?? nonBlank(env.OPENCLAW_STATE_DIR)
        if (given !== undefined && !path.isAbsolute(given)) {
          throw new ConfigError({
            message: `stateDir: expected an absolute path, got ${JSON.stringify(given)} (or leave it out to keep all state in memory)`
          })
        }
        return resolveServerSettings(
          { configPath: IN_MEMORY, stateDir: given ?? IN_MEMORY, exists: true, file: decoded.config },
          env,
          options.flags ?? {},
          { inCode: true }
        )
      },
      catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
    })

  /** The layer of `fromConfig`. */
  static layerConfig = (config: ConfigFile, options: InCodeOptions = {}) =>
    Layer.effect(GatewayConfig, GatewayConfig.fromConfig(config, options))

  /** Settings for tests and embedding: token auth on loopback, a random port, nothing read from disk. */
  static layerTest = (overrides: Partial<GatewaySettings> = {}) =>
    Layer.succeed(GatewayConfig, { ...testSettings(), ...overrides })
}

export const testSettings = (): GatewaySettings => ({
  configPath: IN_MEMORY,
  stateDir: IN_MEMORY,
  port: 0,
  bind: "loopback",
  customBindHost: undefined,
  auth: {
    mode: "token",
    token: Redacted.make("test-token"),
    password: undefined,
    allowTailscale: false,
    rateLimit: { maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000 },
    secretSource: "test"
  },
  tailscale: { mode: "off", resetOnExit: false },
  controlUi: { enabled: true, basePath: "", allowedOrigins: [] },
  tls: { enabled: false, autoGenerate: true },
  nodes: defaultNodesSettings(),
  handshakeTimeoutMs: 10_000,
  tickIntervalMs: 30_000,
  verbose: false,
  agent: DEFAULT_AGENT
})

const nonBlank = (s: string | undefined) => (s !== undefined && s.trim().length > 0 ? s : undefined)

export { DEFAULT_PORT }
