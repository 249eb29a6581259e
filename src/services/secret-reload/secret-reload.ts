/**
 * Live rotation of the shared secret. The Gateway watches where its secret comes from: the config
 * file (gateway.auth.token, or .password in password mode) or the --token-file / --password-file
 * it was started with. When the secret there changes, the new value is in force at once, without a
 * restart; connections that signed in with the old secret are closed (1008), while paired devices
 * (device tokens) and Tailscale identities stay connected. Each change is counted in the runtime
 * record (secretGeneration, secretSince), which `openclaw gateway token rotate` waits for before
 * it says the new secret works. A secret from an environment variable or a --token flag cannot
 * change while the process runs, so nothing is watched for it.
 *
 * Why a file watch rather than an RPC: the file is where the secret lives and where the CLI and
 * the user change it; rotating through it works whether the Gateway runs or not, needs no
 * credential (an RPC would have to be authenticated with the very secret that may have leaked),
 * and a hand edit takes effect the same way as `openclaw gateway token rotate`.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, FiberHandle, Layer, Redacted, Runtime } from "effect"
import { parseConfigText } from "../../config/load.js"
import { updateRuntimeRecord } from "../../config/runtime-record.js"
import { isUnusableSecret } from "../../config/settings.js"
import { CloseCode } from "../../protocol/frames.js"
import { AuditLog } from "../audit-log/AuditLog.js"
import { Auth } from "../auth/Auth.js"
import { Gateway } from "../gateway/api.js"
import { GatewayConfig, type GatewaySettings } from "../config/GatewayConfig.js"

/** How long to wait after a change event before reading (editors write in several steps). */
const SETTLE_MS = 50

const fingerprint = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

/** The watched file and how to read the secret from it (undefined: unreadable or mid-write, wait for the next event). */
interface SecretSource {
  readonly file: string
  /** What the source is called in messages and the audit log. */
  readonly what: string
  readonly read: () => { readonly secret: string | undefined } | { readonly problem: string } | undefined
}

export const SecretReload = {
  /** Needs GatewayConfig, Auth, Gateway and AuditLog; does nothing when the secret comes from a flag or a variable. */
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const settings = yield* GatewayConfig
      const auth = yield* Auth
      const gateway = yield* Gateway
      const audit = yield* AuditLog
      const runtime = yield* Effect.runtime<never>()
      const mode = settings.auth.mode
      if (mode === "none" || auth.replaceSecret === undefined) return
      const source = sourceOf(settings, mode)
      if (source === undefined) return
      const replace = auth.replaceSecret
      const secret = mode === "token" ? settings.auth.token : settings.auth.password
      if (secret === undefined) return
      let current = fingerprint(Redacted.value(secret))
      let generation = 0
      const logInfo = (m: string) => Runtime.runSync(runtime)(Effect.logInfo(m))
      const logWarning = (m: string) => Runtime.runSync(runtime)(Effect.logWarning(m))
      const { file, what } = source

      const reload = () => {
        const read = source.read()
        if (read === undefined) return // being replaced, or gone: the next event reads it
        if ("problem" in read) {
          return logWarning(`${file} changed but ${read.problem}; the ${mode} in force stays until it is fixed`)
        }
        const next = read.secret
        if (isUnusableSecret(next)) {
          return logWarning(
            `${file} changed and ${what} is now missing or blank; the ${mode} in force stays (set a new one with \`openclaw gateway ${mode} ${mode === "token" ? "rotate" : "set"}\`)`
          )
        }
        const digest = fingerprint(next!)
        if (digest === current) return
        current = digest
        replace(next!)
        // Whoever signed in with the old secret is signed out; device tokens and identities stay.
        let closed = 0
        for (const c of gateway.connections()) {
          if (c.authMethod !== mode) continue
          gateway.closeConnection(c.connId, CloseCode.policy, `gateway ${mode} rotated: sign in with the new ${mode}`)
          closed++
        }
        audit.record("token.rotated", { mode, what, closed })
        // Told to the local CLI last, so `token rotate` reports success only once all of the above holds.
        generation++
        try {
          updateRuntimeRecord(settings.stateDir, {
            secretGeneration: generation,
            secretSince: new Date().toISOString()
          })
        } catch (e) {
          logWarning(
            `cannot note the new ${mode} in the runtime record (${(e as NodeJS.ErrnoException).code ?? String(e)}); \`openclaw gateway ${mode} ${mode === "token" ? "rotate" : "set"}\` will not see it confirmed`
          )
        }
        logInfo(
          `${what.startsWith("--") ? `${what} ${file}` : `${what} in ${file}`} changed: the new ${mode} is in force; closed ${closed} connection(s) that signed in with the old one (paired devices stay connected)`
        )
      }

      // The settle wait is a fiber on the Clock: each change event restarts it, the scope ends it.
      const settle = yield* FiberHandle.make()
      const restartSettle = yield* FiberHandle.runtime(settle)<never>()
      const watcher = yield* Effect.try(() =>
        // The directory, not the file: an atomic rename replaces the file (and its inode).
        fs.watch(path.dirname(file), { persistent: false }, (_event, name) => {
          if (name !== null && name !== path.basename(file)) return
          restartSettle(Effect.andThen(Effect.sleep(SETTLE_MS), reload))
        })
      ).pipe(
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logWarning(
              `cannot watch ${file} for a rotated ${mode} (${String(e)}); restart the Gateway after changing it`
            ),
            undefined
          )
        )
      )
      if (watcher === undefined) return
      watcher.on("error", () => watcher.close())
      yield* Effect.addFinalizer(() => Effect.sync(() => watcher.close()))
    })
  )
}

/** Where the running Gateway's secret can change: the config file or the secret file; undefined for a flag or a variable. */
const sourceOf = (settings: GatewaySettings, mode: "token" | "password"): SecretSource | undefined => {
  const { secretSource, secretFile } = settings.auth
  if (secretSource === `--${mode}-file` && secretFile !== undefined && path.isAbsolute(secretFile)) {
    return {
      file: secretFile,
      what: `--${mode}-file`,
      read: () => {
        try {
          // As at start (config/settings.ts): the file's text without its final newline.
          return { secret: fs.readFileSync(secretFile, "utf8").replace(/\r?\n$/, "") }
        } catch {
          return undefined
        }
      }
    }
  }
  const key = `gateway.auth.${mode}`
  if (secretSource !== key || !path.isAbsolute(settings.configPath)) return undefined
  return {
    file: settings.configPath,
    what: key,
    read: () => {
      let text: string
      try {
        text = fs.readFileSync(settings.configPath, "utf8")
      } catch {
        return undefined
      }
      try {
        const parsed = parseConfigText(text, settings.configPath, settings.env ?? {})
        return { secret: mode === "token" ? parsed.gateway?.auth?.token : parsed.gateway?.auth?.password }
      } catch (e) {
        return { problem: `cannot be read (${(e as Error).message.split("\n")[0]})` }
      }
    }
  }
}
