/**
 * Writes a new shared secret (gateway.auth.token or gateway.auth.password) into the config file,
 * keeping the rest of the file as it was: when the old value appears exactly once in the text it
 * is replaced in place (comments, order and formatting stay); otherwise the file is rewritten
 * from its parsed value (comments are lost, and the caller says so). The write is atomic and the
 * file ends up 0600. Never rewrites a file it cannot parse.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import JSON5 from "json5"
import { ConfigError } from "./load.js"

export interface SecretWrite {
  /** The file kept its comments and formatting. */
  readonly inPlace: boolean
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

export const writeSecret = (configPath: string, kind: "token" | "password", value: string): SecretWrite => {
  let text: string
  try {
    text = fs.readFileSync(configPath, "utf8")
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new ConfigError({
      message:
        code === "ENOENT"
          ? `no config file at ${configPath}: run \`openclaw gateway run\` once (it creates one), or set OPENCLAW_CONFIG_PATH`
          : `cannot read ${configPath}: ${code ?? String(e)}`
    })
  }
  let raw: unknown
  try {
    raw = text.trim() === "" ? {} : JSON5.parse(text)
  } catch (e) {
    throw new ConfigError({
      message: `${configPath} is not valid JSON5 (${(e as Error).message}); fix it by hand first, it was not changed`
    })
  }
  if (!isObject(raw))
    throw new ConfigError({ message: `${configPath}: the top level must be an object; it was not changed` })
  const gateway = isObject(raw.gateway) ? raw.gateway : (raw.gateway = {})
  const auth = isObject(gateway.auth) ? gateway.auth : (gateway.auth = {})
  const old = auth[kind]
  if (typeof old === "string" && /\$\{[A-Za-z_][A-Za-z0-9_]*\}/.test(old)) {
    throw new ConfigError({
      message: `gateway.auth.${kind} in ${configPath} refers to an environment variable (${old}); change that variable where the Gateway is started, then restart it`
    })
  }
  let next: string | undefined
  if (typeof old === "string" && old.length > 0) {
    // Both quote styles JSON5 allows; the value itself is what was parsed (no escapes expected in generated secrets).
    const quoted = [JSON.stringify(old), `'${old}'`]
    const hits = quoted.map((q) => text.split(q).length - 1)
    const total = hits[0]! + hits[1]!
    if (total === 1) {
      const q = hits[0] === 1 ? quoted[0]! : quoted[1]!
      next = text.replace(q, () => JSON.stringify(value))
    }
  }
  const inPlace = next !== undefined
  if (next === undefined) {
    auth[kind] = value
    next = `${JSON.stringify(raw, null, 2)}\n`
  }
  const tmp = path.join(path.dirname(configPath), `.${path.basename(configPath)}.${process.pid}.tmp`)
  try {
    const fd = fs.openSync(
      tmp,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW,
      0o600
    )
    try {
      fs.writeSync(fd, next)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.chmodSync(tmp, 0o600)
    fs.renameSync(tmp, configPath)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw new ConfigError({
      message: `cannot write ${configPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; it was not changed`
    })
  }
  return { inPlace }
}
