/**
 * `openclaw gateway token rotate|show` and `openclaw gateway password set`: a new shared secret
 * in the config file (0600). A running Gateway notices the change within a second
 * (services/auth/secret-reload.ts), signs out whoever used the old secret and keeps paired devices.
 * The old secret is never printed; the new one only with --show (or `token show`).
 */
import * as fs from "node:fs"
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { writeSecret } from "../config/edit-secret.js"
import { ConfigError, generateToken, loadConfig } from "../config/load.js"
import { isUnusableSecret } from "../config/settings.js"
import { fail } from "./exit.js"

const show = Options.boolean("show").pipe(Options.withDescription("Also print the new secret (mind the scrollback)"))

const configFailure = (e: ConfigError) => fail(e.exitCode, `Config error: ${e.message}`)

/** The variable that would override the file, if this shell has it. */
const overriddenBy = (kind: "token" | "password") => {
  const name = kind === "token" ? "OPENCLAW_GATEWAY_TOKEN" : "OPENCLAW_GATEWAY_PASSWORD"
  return process.env[name] !== undefined && process.env[name] !== "" ? name : undefined
}

const setSecret = (kind: "token" | "password", value: string, printIt: boolean) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(process.env)
    const env = overriddenBy(kind)
    if (env !== undefined) {
      return yield* fail(
        78,
        `${env} is set in this environment: a Gateway started with it uses that ${kind} and ignores gateway.auth.${kind} in ${loaded.configPath}. Unset it and restart the Gateway so the config file is the ${kind}'s only source, then run this again.`
      )
    }
    const auth = loaded.file.gateway?.auth
    // Unset mode: password when only a password is set (config/settings.ts).
    const mode = auth?.mode ?? (auth?.password !== undefined && auth?.token === undefined ? "password" : "token")
    const written = yield* Effect.try({
      try: () => writeSecret(loaded.configPath, kind, value),
      catch: (e) => (e instanceof ConfigError ? e : new ConfigError({ message: String(e) }))
    })
    const lines = [
      `${kind === "token" ? "Rotated" : "Set"} gateway.auth.${kind} in ${loaded.configPath} (mode 0600)${written.inPlace ? "" : "; the file was rewritten from its parsed value, so its comments were not kept"}.`,
      mode === kind
        ? `A running Gateway switches to it within a second, without a restart: clients that signed in with the old ${kind} are signed out; paired devices and browsers (device tokens) stay connected.`
        : `Note: gateway.auth.mode is ${JSON.stringify(mode)}, so this ${kind} is not the one the Gateway checks; set gateway.auth.mode to "${kind}" and restart the Gateway to use it.`,
      printIt
        ? `New ${kind}: ${value}`
        : `Show it with \`openclaw gateway ${kind === "token" ? "token show" : "password set --show"}\`${kind === "token" ? "" : " next time"}, or read gateway.auth.${kind} in that file.`,
      `Other machines that use the old ${kind} (gateway.remote.${kind} on a laptop) need the new one.`
    ]
    yield* Console.log(lines.join("\n"))
  }).pipe(Effect.catchTag("ConfigError", configFailure))

const rotate = Command.make("rotate", { show }, ({ show }) => setSecret("token", generateToken(), show)).pipe(
  Command.withDescription("New random gateway.auth.token; a running Gateway switches at once")
)

const showToken = Command.make("show", {}, () =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(process.env)
    const token = loaded.file.gateway?.auth?.token
    if (isUnusableSecret(token))
      return yield* fail(
        1,
        `no gateway.auth.token in ${loaded.configPath}; create one with \`openclaw gateway token rotate\``
      )
    yield* Console.log(token!)
  }).pipe(Effect.catchTag("ConfigError", configFailure))
).pipe(Command.withDescription("Print gateway.auth.token from the config file"))

export const tokenCommand = Command.make("token").pipe(
  Command.withDescription("The Gateway's shared token: rotate it, or show it"),
  Command.withSubcommands([rotate, showToken])
)

const passwordFile = Options.file("password-file", { exists: "yes" }).pipe(
  Options.withDescription("Read the new password from this file (default: generate a random one)"),
  Options.optional
)

const passwordSet = Command.make("set", { passwordFile, show }, ({ passwordFile, show }) =>
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
    yield* setSecret("password", value, show)
  })
).pipe(Command.withDescription("New gateway.auth.password (--password-file or random); applied at once"))

export const passwordCommand = Command.make("password").pipe(
  Command.withDescription("The Gateway's shared password (password mode)"),
  Command.withSubcommands([passwordSet])
)
