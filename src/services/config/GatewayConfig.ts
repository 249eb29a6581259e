/**
 * GatewayConfig: the settings the Gateway server runs with, resolved once from
 * flags > environment > config file > defaults, and already checked for unsafe combinations.
 */
import { Console, Context, Effect, Layer, Redacted } from "effect"
import { ConfigError, createDefaultConfig, type Env, loadConfig, resolvePaths } from "../../config/load.js"
import { type ConfigFile, decodeConfigFile } from "../../config/schema.js"
import {
  DEFAULT_AGENT,
  DEFAULT_PORT,
  defaultNodesSettings,
  type GatewaySettings,
  resolveServerSettings,
  type ServerFlags
} from "../../config/settings.js"

export { ConfigError, type ConfigFile, type GatewaySettings, type ServerFlags }
export type { Env } from "../../config/load.js"

export interface LoadOptions {
  readonly env?: Env
  readonly flags?: ServerFlags
  /** First run: write a config with a fresh random token when none exists (what `gateway run` does). */
  readonly createIfMissing?: boolean
}

export class GatewayConfig extends Context.Tag("openclaw/GatewayConfig")<GatewayConfig, GatewaySettings>() {
  /** Loads and resolves; says where a first-run config was written (never the token itself). */
  static load = (options: LoadOptions = {}): Effect.Effect<GatewaySettings, ConfigError> =>
    Effect.gen(function* () {
      const env = options.env ?? process.env
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

  static layer = (options: LoadOptions = {}) => Layer.effect(GatewayConfig, GatewayConfig.load(options))

  /**
   * Settings from a config object shaped like openclaw.json, for embedding: every key is optional
   * (defaults fill the rest), and it is decoded and checked for unsafe combinations exactly like
   * the file. Nothing is read from disk; the state dir is `stateDir`, else what the environment says.
   */
  static fromConfig = (
    config: ConfigFile,
    options: Omit<LoadOptions, "createIfMissing"> & { readonly stateDir?: string } = {}
  ) =>
    Effect.try({
      try: () => {
        const env = options.env ?? process.env
        const decoded = decodeConfigFile(config)
        if (!decoded.ok)
          throw new ConfigError({ message: `invalid config:\n${decoded.problems.map((p) => `  ${p}`).join("\n")}` })
        const stateDir = options.stateDir ?? resolvePaths(env).stateDir
        return resolveServerSettings(
          { configPath: "(in memory)", stateDir, exists: true, file: decoded.config },
          env,
          options.flags ?? {}
        )
      },
      catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
    })

  /** The layer of `fromConfig`. */
  static layerConfig = (
    config: ConfigFile,
    options: Omit<LoadOptions, "createIfMissing"> & { readonly stateDir?: string } = {}
  ) => Layer.effect(GatewayConfig, GatewayConfig.fromConfig(config, options))

  /** Settings for tests and embedding: token auth on loopback, a random port, nothing read from disk. */
  static layerTest = (overrides: Partial<GatewaySettings> = {}) =>
    Layer.succeed(GatewayConfig, { ...testSettings(), ...overrides })
}

export const testSettings = (): GatewaySettings => ({
  configPath: "(in memory)",
  stateDir: "(in memory)",
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

export { DEFAULT_PORT }
