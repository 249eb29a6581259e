/** Client commands: health, status and call (shared by `openclaw <x>` and `openclaw gateway <x>`). */
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Fiber, Option } from "effect"
import type { GatewayClientError } from "../client/GatewayClient.js"
import type { Target } from "../client/target.js"
import type { SshTunnelError } from "../services/ssh/SshTunnel.js"
import { OperatorScopes } from "../protocol/frames.js"
import { auditConfig } from "../services/security/audit.js"
import { forTerminal } from "../protocol/client-text.js"
import {
  clientOptions,
  connectClient,
  describeFailure,
  describeTarget,
  describeTunnelFailure,
  loadClientTarget,
  printJson,
  withGateway
} from "./client.js"
import { fail } from "./exit.js"
import type { ServiceStatus } from "../services/service-manager/driver.js"
import { serviceLine, serviceSummary } from "./service.js"
import { readTunnelState } from "./tunnel.js"

const READ = ["operator.read"]

export const healthCommand = (name: "health") =>
  Command.make(name, clientOptions, (flags) =>
    withGateway(flags, READ, "Gateway health check failed", (conn) =>
      Effect.gen(function* () {
        const started = performance.now()
        const payload = yield* conn.request("health", undefined, { timeoutMs: flags.timeout })
        const ms = Math.round(performance.now() - started)
        if (flags.json) return yield* printJson(payload)
        yield* Console.log(`Gateway Health\n${(payload as { ok?: boolean }).ok === false ? "NOT OK" : "OK"} (${ms}ms)`)
      })
    )
  ).pipe(Command.withDescription("Check that the Gateway answers (operator.read)"))

/** One status line; the value holds what the Gateway sent, so it stays one line of visible characters. */
const line = (label: string, value: string) => `  ${`${label}:`.padEnd(11)} ${forTerminal(value)}`

interface StatusPayload {
  version?: string
  protocol?: number
  uptimeMs?: number
  bind?: { mode?: string; effectiveMode?: string; addresses?: ReadonlyArray<string>; port?: number }
  auth?: { mode?: string; secretSource?: string; allowTailscale?: boolean }
  tls?: { enabled?: boolean; fingerprint?: string; source?: string }
  exposure?: { mode?: string; state?: string; url?: string; wsUrl?: string; route?: string; reason?: string }
  tailscaleUsers?: ReadonlyArray<string>
  readiness?: { status?: string; reasons?: ReadonlyArray<string> }
  clients?: number
  nodes?: number
  agent?: { provider?: string; label?: string }
}

const formatUptime = (ms: number) => {
  const s = Math.floor(ms / 1000)
  return s < 60
    ? `${s}s`
    : s < 3600
      ? `${Math.floor(s / 60)}m ${s % 60}s`
      : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
}

/** How the CLI reaches the target: direct, or through an SSH tunnel (and its state), plus the TLS pin. */
const transportOf = (
  target: Target,
  tunnel: { localPort: number; pid: number } | undefined,
  failed?: SshTunnelError
) =>
  target.ssh === undefined
    ? {
        kind: "direct" as const,
        ...(target.tlsFingerprint ? { tlsPin: target.tlsFingerprint, pinSource: target.pinSource } : {})
      }
    : {
        kind: "ssh" as const,
        sshTarget: target.ssh.target,
        remotePort: target.ssh.remotePort,
        hostKeyPolicy: target.ssh.hostKeyPolicy,
        tunnel: failed
          ? { state: "failed", reason: failed.kind, message: failed.message }
          : tunnel
            ? { state: "up", localPort: tunnel.localPort, pid: tunnel.pid }
            : { state: "not opened" },
        ...(target.tlsFingerprint ? { tlsPin: target.tlsFingerprint, pinSource: target.pinSource } : {})
      }

const transportLine = (t: ReturnType<typeof transportOf>) =>
  t.kind === "direct"
    ? "direct"
    : `ssh ${t.sshTarget} -> 127.0.0.1:${t.remotePort} (host keys: ${t.hostKeyPolicy}); tunnel ${
        t.tunnel.state === "up"
          ? `up on 127.0.0.1:${(t.tunnel as { localPort: number }).localPort}, closed when this command ends`
          : t.tunnel.state
      }`

export const statusCommand = (name: "status") =>
  Command.make(
    name,
    {
      ...clientOptions,
      deep: Options.boolean("deep").pipe(Options.withDescription("Also list connected clients and run a health probe"))
    },
    (flags) =>
      Effect.gen(function* () {
        const { loaded, target } = yield* loadClientTarget(flags).pipe(
          Effect.catchTag("ConfigError", (e) => fail(e.exitCode, `Config error: ${e.message}`))
        )
        // The user service on this machine (systemd, launchd), for a local target only; asked while connecting.
        const serviceQuery = yield* Effect.fork(target.remote ? Effect.succeed({}) : serviceSummary)
        const started = performance.now()
        const result = yield* Effect.scoped(
          Effect.gen(function* () {
            const conn = yield* connectClient(target, flags, READ)
            const status = (yield* conn.request("status", undefined, { timeoutMs: flags.timeout })) as StatusPayload
            const latencyMs = Math.round(performance.now() - started)
            const presence = flags.deep
              ? yield* conn.request("system-presence", undefined, { timeoutMs: flags.timeout })
              : undefined
            const health = flags.deep
              ? yield* conn.request("health", { probe: true }, { timeoutMs: flags.timeout })
              : undefined
            return { status, latencyMs, presence, health, hello: conn.hello, tunnel: conn.tunnel }
          })
        ).pipe(Effect.either)

        const service: { readonly service?: ServiceStatus } = yield* Fiber.join(serviceQuery)
        const serviceText = serviceLine(service)
        const base = {
          target: target.url,
          source: target.source,
          config: target.configPath,
          ...(service.service ? { service: service.service } : {})
        }
        if (result._tag === "Left" && result.left._tag === "ConfigError")
          return yield* fail(result.left.exitCode, `Config error: ${result.left.message}`)
        if (result._tag === "Left" && result.left._tag === "SshTunnelError") {
          const error = result.left
          if (flags.json)
            yield* printJson({
              ...base,
              reachable: false,
              transport: transportOf(target, undefined, error),
              error: { kind: "ssh", code: error.kind, message: error.message }
            })
          return yield* fail(1, describeTunnelFailure(error, target, "Gateway unreachable"))
        }
        // The audit reads this machine's config, so it only describes a local Gateway.
        const audit = flags.deep && !target.remote ? auditConfig(loaded, process.env) : undefined
        if (result._tag === "Left") {
          const error = result.left as GatewayClientError
          if (flags.json)
            yield* printJson({
              ...base,
              reachable: false,
              error: { kind: error.kind, code: error.code, message: error.message }
            })
          else if (serviceText !== undefined) yield* Console.error(line("Service", serviceText))
          return yield* fail(1, describeFailure(error, target, "Gateway unreachable"))
        }
        const { status, latencyMs, presence, health, hello, tunnel } = result.right
        const transport = transportOf(target, tunnel)
        const foreground = readTunnelState(loaded.stateDir)
        if (flags.json) {
          return yield* printJson({
            ...base,
            reachable: true,
            latencyMs,
            transport,
            ...(foreground ? { tunnelCommand: foreground } : {}),
            status,
            ...(flags.deep ? { presence, health, audit } : {})
          })
        }
        const exposure = status.exposure
        const snapshot = (hello.snapshot ?? {}) as { uptimeMs?: number; authMode?: string }
        const lines = [
          "Gateway status",
          line("Target", `${describeTarget(target)} (${target.source})`),
          line("Config", target.configPath),
          ...(serviceText !== undefined ? [line("Service", serviceText)] : []),
          line("Transport", transportLine(transport)),
          ...(foreground
            ? [
                line(
                  "Tunnel",
                  `\`openclaw gateway tunnel\` (PID ${foreground.pid}) ${foreground.state} on 127.0.0.1:${foreground.localPort} -> ${foreground.sshTarget}${foreground.reason && foreground.state !== "up" ? ` (${foreground.reason})` : ""}`
                )
              ]
            : []),
          ...(target.tlsFingerprint ? [line("TLS pin", `sha256 ${target.tlsFingerprint} (${target.pinSource})`)] : []),
          line("Reachable", `yes (${latencyMs}ms)`),
          // Fields an OpenClaw Gateway does not put in `status` come from its hello-ok instead.
          line(
            "Version",
            `${status.version ?? hello.server.version} (protocol ${hello.protocol}), up ${formatUptime(status.uptimeMs ?? snapshot.uptimeMs ?? 0)}`
          ),
          line(
            "Auth",
            `${status.auth?.mode ?? snapshot.authMode ?? hello.auth.method}${status.auth?.secretSource ? ` (from ${status.auth.secretSource})` : ""}`
          ),
          line(
            "Bind",
            status.bind === undefined
              ? "not reported by this Gateway"
              : `${status.bind.mode}${status.bind.effectiveMode && status.bind.effectiveMode !== status.bind.mode ? ` -> ${status.bind.effectiveMode}` : ""} on ${(status.bind.addresses ?? []).join(", ")} port ${status.bind.port}`
          ),
          line(
            "TLS",
            status.tls?.enabled
              ? `on${status.tls.fingerprint ? ` (certificate sha256 ${status.tls.fingerprint}${status.tls.source ? `, ${status.tls.source}` : ""})` : ""}`
              : "off"
          ),
          line(
            "Exposure",
            exposure === undefined || exposure.mode === "off"
              ? status.bind === undefined
                ? "none"
                : (status.bind.effectiveMode ?? status.bind.mode) === "loopback"
                  ? "none (loopback only)"
                  : `no Tailscale Serve or Funnel (reachable directly on the ${status.bind.effectiveMode ?? status.bind.mode} bind above)`
              : `tailscale ${exposure.mode}: ${exposure.state}${exposure.url ? ` ${exposure.url}` : ""}${exposure.wsUrl ? ` (WebSocket ${exposure.wsUrl})` : ""}${exposure.reason ? ` (${exposure.reason})` : ""}`
          ),
          ...(status.readiness?.status === undefined
            ? []
            : [
                line(
                  "Readiness",
                  `${status.readiness.status}${(status.readiness.reasons ?? []).length > 0 ? `: ${(status.readiness.reasons ?? []).join("; ")}` : ""}`
                )
              ]),
          ...(status.tailscaleUsers && status.tailscaleUsers.length > 0
            ? [line("Tailnet", `signed in via Tailscale: ${status.tailscaleUsers.join(", ")}`)]
            : []),
          ...(status.clients === undefined
            ? []
            : [line("Clients", `${status.clients} operator(s), ${status.nodes ?? 0} node(s)`)]),
          ...(status.agent?.label === undefined
            ? []
            : [
                line(
                  "Agent",
                  status.agent.provider === "echo"
                    ? `${status.agent.label} (the default; set agent.provider for a model)`
                    : status.agent.label
                )
              ])
        ]
        if (flags.deep) {
          lines.push(line("Health", (health as { ok?: boolean })?.ok ? "OK" : "NOT OK"))
          if (audit !== undefined) {
            lines.push(
              line(
                "Audit",
                `${audit.summary.critical} critical, ${audit.summary.warn} warning(s)${audit.findings.length > 0 ? " (details: openclaw security audit)" : ""}`
              )
            )
          }
          const entries = (presence as Array<unknown> | undefined) ?? []
          lines.push(line("Presence", `${entries.length} connection(s)`))
          for (const p of (presence as ReadonlyArray<{
            client: { id: string; mode: string; version: string }
            role: string
            host: string
            since: number
            user?: { login: string }
          }>) ?? []) {
            lines.push(
              `    - ${forTerminal(p.client.id)} (${forTerminal(`${p.client.mode} ${p.client.version}, ${p.role}`)}) from ${forTerminal(p.host)}${p.user ? ` as ${forTerminal(p.user.login)} (tailscale)` : ""}, connected ${formatUptime(Date.now() - p.since)} ago`
            )
          }
        }
        yield* Console.log(lines.join("\n"))
      })
  ).pipe(Command.withDescription("Show the Gateway target, reachability, auth, bind and exposure"))

export const callCommand = Command.make(
  "call",
  {
    ...clientOptions,
    method: Args.text({ name: "method" }).pipe(
      Args.withDescription("RPC method, e.g. health, status, system-presence")
    ),
    params: Options.text("params").pipe(Options.withDescription("Method params as JSON"), Options.optional),
    expectFinal: Options.boolean("expect-final").pipe(
      Options.withDescription("For two-phase methods (agent): wait for the final response")
    )
  },
  (flags) =>
    Effect.gen(function* () {
      let params: unknown = undefined
      if (Option.isSome(flags.params)) {
        try {
          params = JSON.parse(flags.params.value)
        } catch (e) {
          return yield* fail(2, `--params is not valid JSON: ${(e as Error).message}`)
        }
      }
      yield* withGateway(flags, OperatorScopes, `Gateway call ${flags.method} failed`, (conn) =>
        Effect.flatMap(
          conn.request(flags.method, params, { expectFinal: flags.expectFinal, timeoutMs: flags.timeout }),
          printJson
        )
      )
    })
).pipe(Command.withDescription("Call any Gateway method and print its JSON result"))
