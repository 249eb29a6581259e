/**
 * Finding, reading and writing the config file: path resolution, JSON5, `${VAR}` substitution,
 * and the first-run default. Nothing here ever rewrites a file that exists.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Data, Effect } from "effect"
import JSON5 from "json5"
import { type ConfigFile, decodeConfigFile } from "./schema.js"

/** Exit code for configuration errors (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78

/** A problem with the config file, the environment or flags; the message names what to change. */
export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly message: string }> {
  readonly exitCode = EXIT_CONFIG
}

export type Env = Readonly<Record<string, string | undefined>>

export interface ConfigPaths {
  readonly configPath: string
  readonly stateDir: string
}

export const resolvePaths = (env: Env): ConfigPaths => {
  const home = env.HOME && env.HOME.length > 0 ? env.HOME : os.homedir()
  const stateDir = nonEmpty(env.OPENCLAW_STATE_DIR) ?? path.join(home, ".openclaw")
  const configPath = nonEmpty(env.OPENCLAW_CONFIG_PATH) ?? path.join(stateDir, "openclaw.json")
  return { configPath: path.resolve(configPath), stateDir: path.resolve(stateDir) }
}

const nonEmpty = (s: string | undefined) => (s !== undefined && s.trim().length > 0 ? s : undefined)

export interface LoadedConfig extends ConfigPaths {
  /** false when no file exists at configPath (defaults apply). */
  readonly exists: boolean
  readonly file: ConfigFile
}

const VAR = /\$\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

/** Replaces `${NAME}` in every string value; `$${NAME}` stays a literal `${NAME}`. */
export const substituteEnv = (value: unknown, env: Env, at: Array<string | number> = []): unknown => {
  if (typeof value === "string") {
    return value.replace(VAR, (_m, escaped: string | undefined, name: string | undefined) => {
      if (escaped !== undefined) return "${" + escaped + "}"
      const v = env[name!]
      if (v === undefined) {
        throw new ConfigError({
          message: `${at.join(".") || "(top level)"}: environment variable ${name} is not set (referenced as \${${name}}; set it, or write $\${${name}} for a literal)`
        })
      }
      return v
    })
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...at, i]))
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...at, k])]))
  }
  return value
}

/** Parses and decodes config text; `file` is only used in messages. */
export const parseConfigText = (text: string, file: string, env: Env): ConfigFile => {
  let raw: unknown
  try {
    raw = text.trim().length === 0 ? {} : JSON5.parse(text)
  } catch (e) {
    const err = e as SyntaxError & { lineNumber?: number; columnNumber?: number }
    const where = err.lineNumber !== undefined ? `${file}:${err.lineNumber}:${err.columnNumber}` : file
    const reason = String(err.message)
      .replace(/^JSON5: /, "")
      .replace(/ at \d+:\d+$/, "")
    throw new ConfigError({
      message: `${where}: invalid JSON5 (line ${err.lineNumber ?? "?"}, column ${err.columnNumber ?? "?"}): ${reason}. Fix the file by hand; it was not changed.`
    })
  }
  const decoded = decodeConfigFile(substituteEnv(raw, env))
  if (!decoded.ok) {
    throw new ConfigError({
      message: `invalid config ${file}:\n${decoded.problems.map((p) => `  ${p}`).join("\n")}`
    })
  }
  return decoded.config
}

export const loadConfig = (env: Env): Effect.Effect<LoadedConfig, ConfigError> =>
  Effect.try({
    try: () => {
      const paths = resolvePaths(env)
      let text: string
      try {
        text = fs.readFileSync(paths.configPath, "utf8")
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === "ENOENT") return { ...paths, exists: false, file: {} }
        throw new ConfigError({ message: `cannot read config ${paths.configPath}: ${code ?? String(e)}` })
      }
      return { ...paths, exists: true, file: parseConfigText(text, paths.configPath, env) }
    },
    catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
  })

/** 32 random bytes from the CSPRNG (256 bits), hex. */
export const generateToken = (): string => randomBytes(32).toString("hex")

/**
 * First run: writes a minimal config with a fresh token. Uses an exclusive create, so an existing
 * file (even one created a moment ago by another process) is never overwritten.
 */
export const createDefaultConfig = (paths: ConfigPaths): Effect.Effect<LoadedConfig, ConfigError> =>
  Effect.try({
    try: () => {
      const file: ConfigFile = { gateway: { mode: "local", auth: { mode: "token", token: generateToken() } } }
      fs.mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 })
      fs.mkdirSync(path.dirname(paths.configPath), { recursive: true, mode: 0o700 })
      fs.writeFileSync(paths.configPath, JSON.stringify(file, null, 2) + "\n", { mode: 0o600, flag: "wx" })
      return { ...paths, exists: true, file }
    },
    catch: (e) =>
      new ConfigError({
        message: `cannot create config ${paths.configPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (set OPENCLAW_CONFIG_PATH or OPENCLAW_STATE_DIR to a writable place)`
      })
  })
