/**
 * Writes a new shared secret (gateway.auth.token or gateway.auth.password) into the config file,
 * keeping the rest of the file as it was: when the old value appears exactly once in the text it
 * is replaced in place, and when there was none the key is added to the innermost of gateway.auth
 * or gateway that the file already has (comments, order and formatting stay). Only when neither
 * edit reads back as intended is the file rewritten from its parsed value (comments are lost, and
 * the caller says so). The write is atomic and the file ends up 0600. Never rewrites a file it
 * cannot parse. Also writes a --token-file / --password-file the same way.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { isDeepStrictEqual } from "node:util"
import JSON5 from "json5"
import { ConfigError } from "./load.js"

export interface SecretWrite {
  /** The file kept its comments and formatting. */
  readonly inPlace: boolean
  /** There was a secret before (rotated), rather than none (created). */
  readonly replaced: boolean
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
  const replaced = typeof old === "string" && old.length > 0
  let next: string | undefined
  if (replaced) {
    // Both quote styles JSON5 allows; the value itself is what was parsed (no escapes expected in generated secrets).
    const quoted = [JSON.stringify(old), `'${old}'`]
    const hits = quoted.map((q) => text.split(q).length - 1)
    const total = hits[0]! + hits[1]!
    if (total === 1) {
      const q = hits[0] === 1 ? quoted[0]! : quoted[1]!
      next = text.replace(q, () => JSON.stringify(value))
    }
  } else {
    next = withKeyAdded(text, kind, value)
  }
  // An edit counts only if the file then reads as the old one with just this secret changed.
  auth[kind] = value
  if (next !== undefined && !readsAs(next, raw)) next = undefined
  const inPlace = next !== undefined
  if (next === undefined) next = `${JSON.stringify(raw, null, 2)}\n`
  try {
    writeAtomically(configPath, next)
  } catch (e) {
    throw new ConfigError({
      message: `cannot write ${configPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; it was not changed`
    })
  }
  return { inPlace, replaced }
}

/** Writes a secret file (--token-file, --password-file): the secret and a newline, atomically, 0600. */
export const writeSecretFile = (file: string, value: string): void => {
  let link = false
  try {
    link = fs.lstatSync(file).isSymbolicLink()
  } catch {
    // gone: written anew
  }
  if (link)
    throw new ConfigError({
      message: `${file} is a symbolic link; replacing it would leave its target with the old secret: write the new one into the target yourself and restart the Gateway, or start it with --token-file naming a plain file`
    })
  try {
    writeAtomically(file, `${value}\n`)
  } catch (e) {
    throw new ConfigError({
      message: `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; it was not changed (the new file is written next to it and renamed over it, so its directory must be writable)`
    })
  }
}

/** A temporary file next to `file` (0600, never through a link), synced, then renamed over it. */
const writeAtomically = (file: string, text: string): void => {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  try {
    fs.rmSync(tmp, { force: true })
    const fd = fs.openSync(
      tmp,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o600
    )
    try {
      fs.writeSync(fd, text)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.chmodSync(tmp, 0o600)
    fs.renameSync(tmp, file)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

const readsAs = (text: string, expected: unknown): boolean => {
  try {
    return isDeepStrictEqual(JSON5.parse(text), expected)
  } catch {
    return false
  }
}

/**
 * `text` with `"kind": value` added as the first member of gateway.auth, or of gateway as
 * `"auth": {...}`, or of the top level as `"gateway": {...}`, whichever is the innermost the file
 * has; undefined when the text cannot be followed. Strings and comments are skipped while looking.
 */
const withKeyAdded = (text: string, kind: "token" | "password", value: string): string | undefined => {
  const openings = objectOpenings(text)
  if (openings === undefined) return undefined
  const member = `${JSON.stringify(kind)}: ${JSON.stringify(value)}`
  const levels: Array<[string, string]> = [
    ["\u0000gateway\u0000auth", member],
    ["\u0000gateway", `"auth": { ${member} }`],
    ["", `"gateway": { "auth": { ${member} } }`]
  ]
  for (const [at, insert] of levels) {
    const i = openings.get(at)
    if (i === undefined) continue
    const rest = text.slice(i)
    const empty = /^\s*\}/.test(rest)
    // An object written on one line stays on one line; else one step deeper than the line it opens on.
    if (/^[ \t]*[^\s/]/.test(rest)) return `${text.slice(0, i)} ${insert}${empty ? " " : ","}${rest}`
    const lineStart = text.lastIndexOf("\n", i - 1) + 1
    const indent = `${/^\s*/.exec(text.slice(lineStart, i))![0]}  `
    return `${text.slice(0, i)}\n${indent}${insert}${empty ? "\n" : ","}${rest}`
  }
  return undefined
}

/**
 * Where each object of the JSON5 text opens (the index after its `{`), by its path of keys
 * joined with NUL ("" for the top level); objects inside arrays are left out. Undefined when the
 * text has an unterminated string or comment.
 */
const objectOpenings = (text: string): Map<string, number> | undefined => {
  const openings = new Map<string, number>()
  const stack: Array<{ readonly path: string | undefined; readonly object: boolean }> = []
  let lastWord: string | undefined
  let key: string | undefined
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i)
      i = end === -1 ? text.length : end
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2)
      if (end === -1) return undefined
      i = end + 2
    } else if (c === '"' || c === "'") {
      let j = i + 1
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1
      if (j >= text.length) return undefined
      try {
        lastWord = JSON5.parse(text.slice(i, j + 1)) as string
      } catch {
        return undefined
      }
      i = j + 1
    } else if (/[A-Za-z_$]/.test(c)) {
      const word = /^[A-Za-z0-9_$]+/.exec(text.slice(i))![0]
      lastWord = word
      i += word.length
    } else {
      const top = stack.at(-1)
      if (c === ":" && top?.object) key = lastWord
      else if (c === ",") key = undefined
      else if (c === "{" || c === "[") {
        const path =
          top === undefined
            ? ""
            : top.object && top.path !== undefined && key !== undefined
              ? `${top.path}\u0000${key}`
              : undefined
        if (c === "{" && path !== undefined && !openings.has(path)) openings.set(path, i + 1)
        stack.push({ path: c === "{" ? path : undefined, object: c === "{" })
        key = undefined
      } else if (c === "}" || c === "]") stack.pop()
      if (c !== ":") lastWord = undefined
      i++
    }
  }
  return openings
}
