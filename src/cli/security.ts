/** `openclaw security audit [--json]`: findings with severity and fix; exit 1 on any critical one. */
import { Command, Options } from "@effect/cli"
import { Console, Effect } from "effect"
import { loadConfig } from "../config/load.js"
import { auditConfig, formatAudit } from "../services/security/audit.js"
import { fail } from "./exit.js"
import { runOptions, toServerFlags } from "./gateway.js"
import { printJson } from "./client.js"

const auditCommand = Command.make(
  "audit",
  {
    bind: runOptions.bind,
    auth: runOptions.auth,
    token: runOptions.token,
    password: runOptions.password,
    tailscale: runOptions.tailscale,
    json: Options.boolean("json").pipe(Options.withDescription("Print machine-readable JSON"))
  },
  (flags) =>
    Effect.gen(function* () {
      const loaded = yield* loadConfig(process.env).pipe(
        Effect.catchTag("ConfigError", (e) => fail(e.exitCode, `Config error: ${e.message}`))
      )
      const report = auditConfig(loaded, process.env, toServerFlags(flags))
      yield* flags.json ? printJson(report) : Console.log(formatAudit(report))
      if (report.summary.critical > 0) return yield* fail(1, "")
    })
).pipe(Command.withDescription("Check the effective config for unsafe settings (exit 1 on a critical one)"))

export const securityCommand = Command.make("security").pipe(
  Command.withDescription("Security checks"),
  Command.withSubcommands([auditCommand])
)
