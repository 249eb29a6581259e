/**
 * `openclaw gateway token rotate|show` and `openclaw gateway password set`: a new shared secret,
 * written where the running Gateway reads it (its runtime record says: the config file, or the
 * --token-file / --password-file it was started with), atomically and 0600. Success is reported
 * only once that Gateway confirms the new secret is in force (services/secret-reload/secret-reload.ts
 * counts each change in the record); a secret from a flag or a variable cannot change while the
 * Gateway runs, so that is refused with the way to do it. With no Gateway running, the config
 * file is changed for the next start. --sign-out-devices then revokes, through the Gateway, the
 * operator devices (browsers) that signed in with the old secret, so a leaked secret's self-made
 * device identities do not outlive it. The old secret is never printed; the new one only with
 * --show (or `token show`).
 */
import * as fs from "node:fs"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { connectTarget, type GatewayClientError } from "../client/GatewayClient.js"
import type { Target } from "../client/target.js"
import { writeSecret, writeSecretFile } from "../config/edit-secret.js"
import { ConfigError, generateToken, loadConfig } from "../config/load.js"
import { readRuntimeRecord, type RuntimeRecord } from "../config/runtime-record.js"
import { isUnusableSecret } from "../config/settings.js"
import { SshTunnel } from "../services/ssh/SshTunnel.js"
import { describeFailure } from "./client.js"
import { fail } from "./exit.js"

type Kind = "token" | "password"

/** How long the running Gateway has to confirm the new secret (it normally takes about 0.1 s). */
const CONFIRM_MS = 5_000

const show = Options.boolean("show").pipe(Options.withDescription("Also print the new secret (mind the scrollback)"))
const signOutDevices = Options.boolean("sign-out-devices").pipe(
  Options.withDescription("Also revoke browsers that signed in with the old secret (if it leaked)")
)

const configFailure = (e: ConfigError) => fail(e.exitCode, `Config error: ${e.message}`)

const envName = (kind: Kind) => (kind === "token" ? "OPENCLAW_GATEWAY_TOKEN" : "OPENCLAW_GATEWAY_PASSWORD")
const thisCommand = (kind: Kind) => `openclaw gateway ${kind === "token" ? "token rotate" : "password set"}`

/** The variable that would override the file, if this shell has it. */
const overriddenBy = (kind: Kind) => {
  const name = envName(kind)
  return process.env[name] !== undefined && process.env[name] !== "" ? name : undefined
}

/** Why the running Gateway's secret cannot be changed from here, and how to rotate it instead; undefined when it can. */
const unchangeable = (kind: Kind, running: RuntimeRecord, configPath: string): string | undefined => {
  const gateway = `the running Gateway (PID ${running.pid})`
  const keep = `so that gateway.auth.${kind} in ${configPath} or --${kind}-file is its source and \`${thisCommand(kind)}\` changes it while it runs`
  switch (running.secretSource) {
    case envName(kind):
      return `${gateway} takes its ${kind} from ${envName(kind)} in its environment, which this command cannot change. To rotate it: set ${envName(kind)} to a new value where the Gateway is started (e.g. from \`openssl rand -hex 32\`), restart the Gateway and give the new value to its clients; or unset it and restart, ${keep}. Nothing was changed.`
    case `--${kind}`:
      return `${gateway} was given its ${kind} with --${kind} on its command line, which this command cannot change (and which \`ps\` shows to every local user). To rotate it: restart the Gateway with --${kind}-file FILE instead, FILE holding a new ${kind} only you can read (\`(umask 077; openssl rand -hex 32 > FILE)\`); this command then rotates FILE while it runs. Nothing was changed.`
    case `--${kind}-file`:
      return running.secretFile === undefined
        ? `${gateway} reads its ${kind} from --${kind}-file but its runtime record does not say which file (it is older than this CLI): write the new ${kind} into that file and restart the Gateway. Nothing was changed.`
        : undefined
    case `gateway.auth.${kind}`:
      return undefined
    default:
      return `${gateway} takes its ${kind} from ${running.secretSource ?? "a source it does not name"}, which this command cannot change: set a new ${kind} there and restart the Gateway. Nothing was changed.`
  }
}

/** Waits until the Gateway `before` describes counts a newer secret than it had; false when it does not (or is gone). */
const confirmed = (stateDir: string, before: RuntimeRecord) =>
  Effect.gen(function* () {
    const deadline = Date.now() + CONFIRM_MS
    while (Date.now() < deadline) {
      const now = readRuntimeRecord(stateDir)
      if (now?.pid !== before.pid) return undefined
      if ((now.secretGeneration ?? 0) > (before.secretGeneration ?? 0)) return now
      yield* Effect.sleep(50)
    }
    return undefined
  })

/** One paired device as device.pair.list shows it (the fields used here). */
interface PairedView {
  readonly deviceId: string
  readonly displayName?: string
  readonly role: string
  readonly clientId: string
  readonly revoked: boolean
  readonly tokenIssuedAt?: number
}

/**
 * Revokes, through the running Gateway and signed in with the new secret, every operator device
 * whose device token was issued before that secret was in force: operator devices get their token
 * only by signing in with the shared secret (pairing/admission.ts), so these are the ones the old
 * secret minted, a leaked one's included. Nodes are approved by an operator and are left alone.
 */
const signOutOldDevices = (kind: Kind, value: string, running: RuntimeRecord) =>
  Effect.gen(function* () {
    const since = Date.parse(running.secretSince ?? "") || Date.now()
    const target: Target = {
      url: running.url,
      source: `running Gateway, PID ${running.pid}, port ${running.port}`,
      configPath: running.configPath,
      remote: false,
      running,
      ...(kind === "token" ? { token: value } : { password: value }),
      ...(running.tlsFingerprint !== undefined && running.url.startsWith("wss:")
        ? { tlsFingerprint: running.tlsFingerprint, pinSource: "local certificate of the running Gateway" }
        : {})
    }
    const work = Effect.scoped(
      Effect.gen(function* () {
        const conn = yield* connectTarget(target, { scopes: ["operator.read", "operator.pairing"], timeoutMs: 10_000 })
        const list = (yield* conn.request("device.pair.list", {}, { timeoutMs: 10_000 })) as {
          paired: ReadonlyArray<PairedView>
        }
        const minted = list.paired.filter(
          (d) => d.role === "operator" && !d.revoked && d.tokenIssuedAt !== undefined && d.tokenIssuedAt <= since
        )
        for (const d of minted)
          yield* conn.request("device.token.revoke", { deviceId: d.deviceId }, { timeoutMs: 10_000 })
        return minted
      })
    ).pipe(Effect.provide(SshTunnel.layer))
    return yield* work.pipe(
      Effect.catchTag("GatewayClientError", (e: GatewayClientError) =>
        fail(
          1,
          describeFailure(
            e,
            target,
            `The new ${kind} is in force, but signing out the devices that used the old one failed`
          ) +
            `\nRevoke them by hand: \`openclaw devices list\`, then \`openclaw devices revoke <device>\` for each browser or operator device signed in before now.`
        )
      ),
      Effect.catchTag("SshTunnelError", (e) => fail(1, `Signing out the devices failed: ${e.message}`))
    )
  })

const deviceLine = (d: PairedView) =>
  `  ${d.deviceId.slice(0, 12)}  ${JSON.stringify((d.displayName ?? d.clientId).slice(0, 40))}`

const setSecret = (kind: Kind, value: string, options: { readonly show: boolean; readonly signOutDevices: boolean }) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(process.env)
    const running = readRuntimeRecord(loaded.stateDir)
    const live = running !== undefined && running.authMode === kind ? running : undefined
    const showLine = options.show ? `New ${kind}: ${value}` : undefined
    const otherMachines = `Other machines that use the old ${kind} (gateway.remote.${kind} on a laptop) need the new one.`

    if (live === undefined) {
      if (options.signOutDevices)
        return yield* fail(
          1,
          running === undefined
            ? `--sign-out-devices revokes devices through the running Gateway, and none runs here (no live record in ${loaded.stateDir}): start it (\`openclaw gateway run\`), then run this again. Nothing was changed.`
            : `the running Gateway (PID ${running.pid}) uses gateway.auth.mode "${running.authMode}", so no device signed in with a ${kind}: run this without --sign-out-devices. Nothing was changed.`
        )
      const env = overriddenBy(kind)
      if (env !== undefined) {
        return yield* fail(
          78,
          `${env} is set in this environment: a Gateway started with it uses that ${kind} and ignores gateway.auth.${kind} in ${loaded.configPath}. Unset it and restart the Gateway so the config file is the ${kind}'s only source, then run this again.`
        )
      }
      const auth = loaded.file.gateway?.auth
      // Unset mode: password when only a password is set (config/settings.ts).
      const mode =
        running?.authMode ??
        auth?.mode ??
        (auth?.password !== undefined && auth?.token === undefined ? "password" : "token")
      const written = yield* Effect.try({
        try: () => writeSecret(loaded.configPath, kind, value),
        catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
      })
      const lines = [
        `${written.replaced ? (kind === "token" ? "Rotated" : "Set") : "Created"} gateway.auth.${kind} in ${loaded.configPath} (mode 0600)${written.inPlace ? "" : "; the file was rewritten from its parsed value, so its comments were not kept"}.`,
        mode !== kind
          ? `Note: ${running === undefined ? `gateway.auth.mode is ${JSON.stringify(mode)}` : `the running Gateway (PID ${running.pid}) uses gateway.auth.mode ${JSON.stringify(mode)}`}, so this ${kind} is not the one the Gateway checks; set gateway.auth.mode to "${kind}" and restart the Gateway to use it.`
          : `No Gateway runs here${written.replaced ? ", so nobody was signed out" : ""}: the new ${kind} is in force when the Gateway next starts from this config (a --${kind}-file, --${kind} or ${envName(kind)} given at start would take precedence).`,
        ...(written.replaced ? [] : [`There was no ${kind} before, so there was nothing to sign out.`]),
        showLine ??
          `Show it with \`openclaw gateway ${kind === "token" ? "token show" : "password set --show"}\`${kind === "token" ? "" : " next time"}, or read gateway.auth.${kind} in that file.`,
        ...(written.replaced ? [otherMachines] : [])
      ]
      return yield* Console.log(lines.join("\n"))
    }

    const refusal = unchangeable(kind, live, loaded.configPath)
    if (refusal !== undefined) return yield* fail(78, refusal)
    const fromFile = live.secretSource === `--${kind}-file`
    const where = fromFile ? live.secretFile! : live.configPath
    if (fromFile) {
      let old: string | undefined
      try {
        old = fs.readFileSync(where, "utf8").replace(/\r?\n$/, "")
      } catch {
        // unreadable or gone: written anew
      }
      if (old === value)
        return yield* fail(2, `that is the ${kind} in ${where} already; choose another. Nothing was changed.`)
    }
    const written = yield* Effect.try({
      try: () =>
        fromFile ? (writeSecretFile(where, value), { inPlace: true, replaced: true }) : writeSecret(where, kind, value),
      catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
    })
    const wrote = fromFile
      ? `Wrote the new ${kind} to ${where} (mode 0600), the --${kind}-file of the running Gateway.`
      : `${kind === "token" ? "Rotated" : "Set"} gateway.auth.${kind} in ${where} (mode 0600)${written.inPlace ? "" : "; the file was rewritten from its parsed value, so its comments were not kept"}.`
    const now = yield* confirmed(loaded.stateDir, live)
    if (now === undefined) {
      return yield* fail(
        1,
        `${wrote}\nBut the running Gateway (PID ${live.pid}) did not confirm within ${CONFIRM_MS / 1000} s that it uses it, so it may still accept the old ${kind}: restart it (stop it, then start it as before) so it reads the new one, and look at its log for why (e.g. "cannot watch").`
      )
    }
    const lines = [
      wrote,
      `The running Gateway (PID ${live.pid}) confirmed the new ${kind} is in force: the old one is refused and clients that signed in with it were signed out.`
    ]
    if (options.signOutDevices) {
      const revoked = yield* signOutOldDevices(kind, value, now)
      lines.push(
        revoked.length === 0
          ? `No browser or operator device had signed in with the old ${kind}; nothing else to sign out.`
          : `Signed out ${revoked.length} browser/operator device(s) that had signed in with the old ${kind} (their device tokens no longer work; they sign in again with the new ${kind}):\n${revoked.map(deviceLine).join("\n")}`
      )
    } else {
      lines.push(
        `Paired devices and browsers keep their device tokens and stay connected. If the old ${kind} may have leaked, also sign out the browsers and operator devices it signed in: \`${thisCommand(kind)} --sign-out-devices\` (a fresh ${kind} again, then those devices revoked), or one by one with \`openclaw devices list\` and \`openclaw devices revoke <device>\`.`
      )
    }
    lines.push(
      showLine ??
        (fromFile
          ? `The new ${kind} is in ${where}.`
          : `Show it with \`openclaw gateway ${kind === "token" ? "token show" : "password set --show"}\`${kind === "token" ? "" : " next time"}, or read gateway.auth.${kind} in that file.`),
      otherMachines
    )
    yield* Console.log(lines.join("\n"))
  }).pipe(Effect.catchTag("ConfigError", configFailure))

const rotate = Command.make("rotate", { show, signOutDevices }, (options) =>
  setSecret("token", generateToken(), options)
).pipe(Command.withDescription("New random token where the running Gateway reads it; done once it confirms"))

const showToken = Command.make("show", {}, () =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(process.env)
    // The token the running Gateway checks, when it does not come from the config file.
    const running = readRuntimeRecord(loaded.stateDir)
    if (running?.authMode === "token" && running.secretSource !== "gateway.auth.token") {
      if (running.secretSource === "--token-file" && running.secretFile !== undefined) {
        const read = yield* Effect.try({
          try: () => fs.readFileSync(running.secretFile!, "utf8").replace(/\r?\n$/, ""),
          catch: (e) =>
            new ConfigError({
              message: `cannot read ${running.secretFile}, the --token-file of the running Gateway (PID ${running.pid}): ${(e as NodeJS.ErrnoException).code ?? String(e)}`
            })
        })
        return yield* Console.log(read)
      }
      return yield* fail(
        1,
        `the running Gateway (PID ${running.pid}) takes its token from ${running.secretSource ?? "a source it does not name"}, not from ${loaded.configPath}: read it there`
      )
    }
    const token = loaded.file.gateway?.auth?.token
    if (isUnusableSecret(token))
      return yield* fail(
        1,
        `no gateway.auth.token in ${loaded.configPath}; create one with \`openclaw gateway token rotate\``
      )
    yield* Console.log(token!)
  }).pipe(Effect.catchTag("ConfigError", configFailure))
).pipe(Command.withDescription("Print the token the running Gateway reads (config or its --token-file)"))

export const tokenCommand = Command.make("token").pipe(
  Command.withDescription("The Gateway's shared token: rotate it, or show it"),
  Command.withSubcommands([rotate, showToken])
)

const passwordFile = Options.file("password-file", { exists: "yes" }).pipe(
  Options.withDescription("Read the new password from this file (default: generate a random one)"),
  Options.optional
)

const passwordSet = Command.make("set", { passwordFile, show, signOutDevices }, ({ passwordFile, ...options }) =>
  Effect.gen(function* () {
    const file = Option.getOrUndefined(passwordFile)
    const value = file === undefined ? generateToken() : fs.readFileSync(file, "utf8").replace(/\r?\n$/, "")
    if (isUnusableSecret(value))
      return yield* fail(2, `${file} is empty or holds a placeholder; put the new password in it`)
    if (value.length < 16)
      return yield* fail(
        2,
        `the password in ${file} has ${value.length} characters; use at least 16 (a Funnel-exposed Gateway is guessed at from the whole internet)`
      )
    yield* setSecret("password", value, options)
  })
).pipe(Command.withDescription("New password (--password-file or random) where the Gateway reads it, confirmed"))

export const passwordCommand = Command.make("password").pipe(
  Command.withDescription("The Gateway's shared password (password mode)"),
  Command.withSubcommands([passwordSet])
)
