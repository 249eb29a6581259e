/**
 * Live rotation of the shared secret. The Gateway watches its config file: when
 * gateway.auth.token (or .password in password mode) changes there, the new value is in force at
 * once, without a restart; connections that signed in with the old secret are closed (1008), while
 * paired devices (device tokens) and Tailscale identities stay connected.
 *
 * Why a file watch rather than an RPC: the config file is where the secret lives and where the
 * CLI and the user change it; rotating through it works whether the Gateway runs or not, needs no
 * credential (an RPC would have to be authenticated with the very secret that may have leaked),
 * and a hand edit takes effect the same way as `openclaw gateway token rotate`.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, FiberHandle, Layer, Redacted, Runtime } from "effect"
import { parseConfigText } from "../../config/load.js"
import { isUnusableSecret } from "../../config/settings.js"
import { CloseCode } from "../../protocol/frames.js"
import { AuditLog } from "../audit-log/AuditLog.js"
import { Auth } from "./Auth.js"
import { Gateway } from "../gateway/Gateway.js"
import { GatewayConfig } from "../config/GatewayConfig.js"

/** How long to wait after a change event before reading (editors write in several steps). */
const SETTLE_MS = 50

const fingerprint = (s: string) => createHash("sha256").update(s, "utf8").digest("hex")

export const SecretReload = {
  /** Needs GatewayConfig, Auth, Gateway and AuditLog; does nothing when the secret does not come from the config file. */
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const settings = yield* GatewayConfig
      const auth = yield* Auth
      const gateway = yield* Gateway
      const audit = yield* AuditLog
      const runtime = yield* Effect.runtime<never>()
      const mode = settings.auth.mode
      if (
        mode === "none" ||
        settings.auth.secretSource !== `gateway.auth.${mode}` ||
        !path.isAbsolute(settings.configPath) ||
        auth.replaceSecret === undefined
      )
        return
      const replace = auth.replaceSecret
      const secret = mode === "token" ? settings.auth.token : settings.auth.password
      if (secret === undefined) return
      let current = fingerprint(Redacted.value(secret))
      const logInfo = (m: string) => Runtime.runSync(runtime)(Effect.logInfo(m))
      const logWarning = (m: string) => Runtime.runSync(runtime)(Effect.logWarning(m))
      const key = `gateway.auth.${mode}`

      const reload = () => {
        let text: string
        try {
          text = fs.readFileSync(settings.configPath, "utf8")
        } catch {
          return // being replaced, or gone: the next event reads it
        }
        let next: string | undefined
        try {
          const file = parseConfigText(text, settings.configPath, settings.env ?? {})
          next = mode === "token" ? file.gateway?.auth?.token : file.gateway?.auth?.password
        } catch (e) {
          return logWarning(
            `${settings.configPath} changed but cannot be read (${(e as Error).message.split("\n")[0]}); the ${mode} in force stays until it is fixed`
          )
        }
        if (isUnusableSecret(next)) {
          return logWarning(
            `${settings.configPath} changed and ${key} is now missing or blank; the ${mode} in force stays (set a new one with \`openclaw gateway ${mode} ${mode === "token" ? "rotate" : "set"}\`)`
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
          c.close(CloseCode.policy, `gateway ${mode} rotated: sign in with the new ${mode}`)
          closed++
        }
        audit.record("token.rotated", { mode, what: key, closed })
        logInfo(
          `${key} changed in ${settings.configPath}: the new ${mode} is in force; closed ${closed} connection(s) that signed in with the old one (paired devices stay connected)`
        )
      }

      // The settle wait is a fiber on the Clock: each change event restarts it, the scope ends it.
      const settle = yield* FiberHandle.make()
      const restartSettle = yield* FiberHandle.runtime(settle)<never>()
      const watcher = yield* Effect.try(() =>
        // The directory, not the file: an atomic rename replaces the file (and its inode).
        fs.watch(path.dirname(settings.configPath), { persistent: false }, (_event, name) => {
          if (name !== null && name !== path.basename(settings.configPath)) return
          restartSettle(Effect.andThen(Effect.sleep(SETTLE_MS), reload))
        })
      ).pipe(
        Effect.catchAll((e) =>
          Effect.as(
            Effect.logWarning(
              `cannot watch ${settings.configPath} for a rotated ${mode} (${String(e)}); restart the Gateway after changing it`
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
