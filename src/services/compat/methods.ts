/**
 * Methods OpenClaw's own clients (Control UI, TUI, CLI) call, answered in OpenClaw's shapes:
 * agents.list and agent.identity.get (our one agent as `main`), config.get (redacted),
 * logs.tail, system.info, and OpenClaw's fields in `status`; chat, models, sessions and update
 * reads (feature-methods.ts); empty reads of features it lacks (absent-features.ts). Other methods
 * of OpenClaw parts this Gateway does not implement get a clear "not supported" error
 * (unsupported-methods.ts).
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Layer, Stream } from "effect"
import { isRecord } from "../../protocol/frames.js"
import { AgentRuntime, type AgentRuntimeService } from "../agent/AgentRuntime.js"
import { Gateway, type GatewayService, type GroupHandlers, RpcError } from "../gateway/api.js"
import { GatewayConfig, type GatewaySettings } from "../config/GatewayConfig.js"
import { LogBuffer, type LogBufferService } from "./LogBuffer.js"
import { Sessions, type SessionsService } from "../sessions/Sessions.js"
import { OPENCLAW_COMPAT_VERSION, VERSION } from "../../version.js"
import { AbsentFeatureGroup, CompatGroup, FeatureGroup } from "../../protocol/contracts/compat.js"
import { AGENT_ID, openclawSessionKey } from "../sessions/keys.js"
import { sessionDefaults } from "../agent/session-methods.js"
import { absentFeatureMethods } from "./absent-features.js"
import { featureMethods } from "./feature-methods.js"

export const REDACTED = "__OPENCLAW_REDACTED__"
/** Config keys whose values are secrets (tokens, passwords, keys): config.get never sends them. */
const SECRET_KEY = /token|password|secret|apikey|api_key|privatekey|credential|authorization|cookie/i

/** A copy of a parsed config with every secret-looking value replaced. */
export const redactConfig = (value: unknown, key = ""): unknown => {
  if (SECRET_KEY.test(key) && value !== null && typeof value !== "object") return REDACTED
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key))
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, k)]))
  return value
}

const readConfigFile = (file: string): { exists: boolean; parsed: unknown } => {
  // A config built in code has no file (configPath "(in memory)"): nothing to read, least of all in the cwd.
  if (!path.isAbsolute(file)) return { exists: false, parsed: {} }
  try {
    return { exists: true, parsed: JSON.parse(fs.readFileSync(file, "utf8")) }
  } catch (e) {
    return { exists: (e as NodeJS.ErrnoException).code !== "ENOENT", parsed: {} }
  }
}

const agentEntry = (runtime: AgentRuntimeService) => {
  const d = sessionDefaults(runtime)
  return {
    id: AGENT_ID,
    name: "Assistant",
    kind: "agent",
    agentRuntime: d.agentRuntime,
    thinkingLevels: d.thinkingLevels,
    thinkingOptions: d.thinkingOptions,
    thinkingDefault: d.thinkingDefault,
    model: { primary: `${d.modelProvider}/${d.model}` },
    provider: runtime.provider.label
  }
}

export const compatMethods = (
  gateway: GatewayService,
  settings: GatewaySettings,
  runtime: AgentRuntimeService,
  logs: LogBufferService
): GroupHandlers<typeof CompatGroup> => ({
  "agents.list": {
    sync: () => ({
      defaultId: AGENT_ID,
      mainKey: "main",
      scope: "per-sender",
      selectionRequired: false,
      agents: [agentEntry(runtime)]
    })
  },
  "agent.identity.get": {
    sync: (params) => {
      // The client's id is not quoted back (error texts never reflect input).
      if (params.agentId !== undefined && params.agentId !== AGENT_ID)
        throw RpcError.invalidRequest(`unknown agent in params.agentId: this Gateway has one agent, "${AGENT_ID}"`, {
          code: "UNKNOWN_AGENT",
          field: "agentId"
        })
      return { agentId: AGENT_ID, name: "Assistant", nameSource: "default", avatar: "A" }
    }
  },
  // This Gateway's agent never asks the operator questions: the list is empty (the TUI polls it).
  "question.list": { sync: () => ({ questions: [] }) },
  "config.get": {
    sync: () => {
      const { exists, parsed } = readConfigFile(settings.configPath)
      const redacted = redactConfig(parsed)
      const raw = `${JSON.stringify(redacted, null, 2)}\n`
      return {
        path: settings.configPath,
        exists,
        valid: true,
        raw,
        parsed: redacted,
        config: redacted,
        resolved: redacted,
        hash: createHash("sha256").update(raw).digest("hex"),
        issues: []
      }
    }
  },
  // operator.read as in OpenClaw: its `openclaw logs` asks for no more. The lines never hold a secret.
  "logs.tail": {
    sync: ({ cursor, limit, maxBytes }) => {
      const r = logs.tail({ ...(cursor === undefined ? {} : { cursor }), limit, maxBytes })
      // Each line as OpenClaw's JSON log lines: time, message and _meta.logLevelName.
      const lines = r.lines.map((l) =>
        JSON.stringify({
          time: new Date(l.time).toISOString(),
          message: l.message,
          _meta: { logLevelName: l.level.toUpperCase(), name: "gateway", date: new Date(l.time).toISOString() }
        })
      )
      return {
        file: "(gateway memory)",
        cursor: r.cursor,
        size: r.cursor,
        lines,
        truncated: r.truncated,
        reset: r.reset
      }
    }
  },
  "system.info": {
    sync: () => ({
      machineName: os.hostname(),
      hostname: os.hostname(),
      platform: process.platform,
      release: os.release(),
      arch: process.arch,
      osLabel: `${os.type()} ${os.release()}`,
      port: gateway.listeners.port,
      nodeVersion: process.version,
      pid: process.pid,
      uptimeMs: Date.now() - gateway.startedAt,
      cpuCount: os.cpus().length,
      loadAverage: os.loadavg(),
      memoryTotalBytes: os.totalmem(),
      memoryFreeBytes: os.freemem(),
      version: VERSION
    })
  }
})

/** OpenClaw's `sessions` in `status` (its CLI's `status --json` reads sessions.byAgent). */
const sessionsStatus = (sessions: SessionsService) => {
  const all = sessions.list()
  const recent = all
    .slice(0, 10)
    .map((s) => ({ key: openclawSessionKey(s.key), updatedAt: s.updatedAt, age: Date.now() - s.updatedAt }))
  return {
    paths: sessions.dir === undefined ? [] : [sessions.dir],
    count: all.length,
    defaults: { model: null, contextTokens: null },
    recent,
    byAgent: [{ agentId: AGENT_ID, path: sessions.dir ?? "(memory)", count: all.length, recent }]
  }
}

/** OpenClaw's fields in `status`, beside ours: constant ones, and sessions. */
const openclawStatus = (sessions: SessionsService): Record<string, () => unknown> => {
  const heartbeat = { defaultAgentId: AGENT_ID, agents: [] }
  const implementation = {
    name: "openclaw-gateway-effect",
    version: VERSION,
    openclawCompatibility: OPENCLAW_COMPAT_VERSION
  }
  return {
    // OpenClaw's doctor warns when runtimeVersion is not its own: the release this Gateway implements.
    runtimeVersion: () => OPENCLAW_COMPAT_VERSION,
    implementation: () => implementation,
    heartbeat: () => heartbeat,
    channelSummary: () => [],
    queuedSystemEvents: () => [],
    sessions: () => sessionsStatus(sessions)
  }
}

/** Registers the compatibility methods and status fields for as long as the layer lives. */
export const CompatMethods = {
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const gateway = yield* Gateway
      const settings = yield* GatewayConfig
      const runtime = yield* AgentRuntime
      const sessions = yield* Sessions
      const logs = yield* LogBuffer
      yield* gateway.registerGroup(CompatGroup, compatMethods(gateway, settings, runtime, logs))
      yield* gateway.registerGroup(FeatureGroup, featureMethods(runtime, settings))
      yield* gateway.registerGroup(AbsentFeatureGroup, absentFeatureMethods())
      // Who came and went, whatever gateway.verbose says: what an operator reading `logs` looks for first.
      const events = yield* gateway.connectionEvents
      yield* Effect.forkScoped(
        Stream.runForEach(events, ({ _tag, connection: c }) =>
          Effect.sync(() =>
            _tag === "Joined"
              ? logs.append(
                  "INFO",
                  `${c.role} connected: ${JSON.stringify(c.client.id.slice(0, 64))} (${c.client.mode}) from ${c.remoteAddress} (conn ${c.connId})`
                )
              : logs.append(
                  "INFO",
                  `${c.role} disconnected: ${JSON.stringify(c.client.id.slice(0, 64))} (conn ${c.connId})`
                )
          )
        )
      )
      for (const [name, get] of Object.entries(openclawStatus(sessions))) yield* gateway.addStatusSection(name, get)
    })
  )
}
