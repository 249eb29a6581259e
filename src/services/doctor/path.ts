/**
 * `openclaw doctor`'s walk from this machine to the Gateway: config, target, ssh, dns, tcp, tls,
 * http, upgrade, challenge, auth, scopes, rpc, and on the Gateway's own machine its process,
 * state dir, exposure and audit. Target resolution is the one every client command uses
 * (client/target.ts); the steps only look at each link of the path it describes. This module
 * runs the walk: the config, target and ssh steps, the network and protocol steps
 * (path-network.ts, path-protocol.ts), then the local extras.
 */
import { randomUUID } from "node:crypto"
import { Effect, type Scope } from "effect"
import { checkPlaintext, resolveTarget, type ClientFlags, type Target } from "../../client/target.js"
import { type ConfigError, type Env, type LoadedConfig, loadConfig } from "../../config/load.js"
import { findOnPath } from "../../platform/executable.js"
import { auditConfig } from "../security/audit.js"
import { SshTunnel, type SshTunnelError } from "../ssh/SshTunnel.js"
import { checkAudit, checkExposure, checkProcess, checkStateDir } from "./host-checks.js"
import { checkLeftBehind } from "./left-behind.js"
import { type Credential, dialOf, newWalk, type PathInput, type TargetSummary } from "./path-context.js"
import { networkSteps } from "./path-network.js"
import { protocolSteps } from "./path-protocol.js"
import { failed, passed, skipped, type Step } from "./steps.js"

/** Which setting or flag a credential came from, found by where its value is (the target holds only the value). */
const credentialOf = (t: Target, loaded: LoadedConfig, env: Env, flags: ClientFlags): Credential => {
  const g = loaded.file.gateway
  const from = (kind: "token" | "password", value: string) => {
    const upper = kind.toUpperCase()
    const places: Array<[string, string | undefined]> = [
      [`--${kind}`, flags[kind]],
      ...(t.remote ? ([[`gateway.remote.${kind}`, g?.remote?.[kind]]] as Array<[string, string | undefined]>) : []),
      [`OPENCLAW_GATEWAY_${upper}`, env[`OPENCLAW_GATEWAY_${upper}`]],
      [`gateway.auth.${kind}`, g?.auth?.[kind]]
    ]
    return `${kind} (from ${places.find(([, v]) => v === value)?.[0] ?? "the target's record"})`
  }
  const sent = [
    t.token === undefined ? undefined : from("token", t.token),
    t.password === undefined ? undefined : from("password", t.password)
  ].filter((s) => s !== undefined)
  return {
    kind: t.token !== undefined ? "token" : t.password !== undefined ? "password" : undefined,
    describe: sent.length > 0 ? sent.join(" and ") : "no credential"
  }
}

export const pathSteps = (input: PathInput, summary: TargetSummary): Array<Step<SshTunnel | Scope.Scope>> => {
  const { env, flags, timeoutMs } = input
  const w = newWalk(input, summary)
  const { port, secure } = dialOf(w)

  const config: Step = {
    id: "config",
    run: Effect.gen(function* () {
      const result = yield* Effect.either(loadConfig(env))
      if (result._tag === "Left")
        return failed(
          result.left.message,
          "fix the file as the message says (doctor never changes it), or point OPENCLAW_CONFIG_PATH at another one"
        )
      w.loaded = result.right
      summary.config = w.loaded.configPath
      return passed(
        w.loaded.exists
          ? `${w.loaded.configPath} parses and validates`
          : `${w.loaded.configPath} does not exist: defaults apply`
      )
    })
  }

  const targetStep: Step = {
    id: "target",
    run: Effect.sync(() => {
      try {
        w.target = resolveTarget(w.loaded!, env, flags)
      } catch (e) {
        return failed("the target cannot be resolved", (e as ConfigError).message ?? String(e))
      }
      w.credential = credentialOf(w.target, w.loaded!, env, flags)
      if (input.connectAs !== undefined) {
        const device = `device token (from ${input.connectAs.deviceTokenSource})`
        w.credential = {
          kind: w.credential.kind,
          describe: w.credential.kind === undefined ? device : `${w.credential.describe} and ${device}`
        }
      }
      Object.assign(summary, {
        url: w.target.url,
        source: w.target.source,
        transport: w.target.ssh === undefined ? "direct" : "ssh",
        ...(w.target.ssh === undefined ? {} : { sshTarget: w.target.ssh.target }),
        ...(w.target.tlsFingerprint === undefined
          ? {}
          : { tlsPin: w.target.tlsFingerprint, pinSource: w.target.pinSource }),
        credential: w.credential.describe,
        local: !w.target.remote
      })
      w.dial = new URL(w.target.url)
      if (w.target.ssh === undefined) {
        try {
          checkPlaintext(w.target.url, env)
        } catch (e) {
          return failed(
            `${w.target.url} (${w.target.source}) is plaintext ws:// to a public address; the client refuses it`,
            (e as ConfigError).message
          )
        }
      }
      const pin = w.target.tlsFingerprint === undefined ? "" : `; TLS pin from ${w.target.pinSource}`
      return passed(
        `${w.target.url}${w.target.ssh === undefined ? "" : ` on ${w.target.ssh.target} (SSH)`} from ${w.target.source}; ${w.credential.describe}${pin}`
      )
    })
  }

  const ssh: Step<SshTunnel | Scope.Scope> = {
    id: "ssh",
    run: Effect.gen(function* () {
      const spec = w.target!.ssh
      if (spec === undefined) return skipped('direct connection (gateway.remote.transport is not "ssh")')
      if (findOnPath(["ssh"], env.PATH) === undefined)
        return failed(
          "ssh is not installed (not on PATH)",
          "install the OpenSSH client (apt-get install openssh-client, or your system's package)"
        )
      const tunnel = yield* Effect.either(
        (yield* SshTunnel).open(spec, { connectTimeoutS: Math.max(1, Math.ceil(timeoutMs / 1000)) })
      )
      if (tunnel._tag === "Left") return failed(sshDetail(tunnel.left, spec.target), tunnel.left.message)
      w.dial!.port = String(tunnel.right.localPort)
      summary.dialled = w.dial!.toString().replace(/\/$/, "")
      return passed(
        `${spec.target}: host key known and matching, login accepted, forward 127.0.0.1:${tunnel.right.localPort} -> 127.0.0.1:${spec.remotePort} open (ssh pid ${tunnel.right.pid})`
      )
    })
  }

  // Before the network: a Gateway that is gone explains a refused port, and its route may outlive it.
  const gatewayStep: Step = {
    id: "gateway",
    run: Effect.suspend(() =>
      w.target!.remote
        ? Effect.succeed(skipped("remote target: its runtime record is on the Gateway's machine"))
        : checkLeftBehind(w.loaded!.stateDir, input.tailscale, timeoutMs)
    )
  }

  /** The Gateway's own status (PID, port, exposure), for the local extras. */
  const status = () =>
    Effect.promise(async () => {
      if (w.gatewayStatus !== undefined) return w.gatewayStatus
      const id = randomUUID()
      w.probe!.send({ type: "req", id, method: "status" })
      const res = await w.probe!.next(timeoutMs, (f) => f !== "invalid" && f.type === "res" && f.id === id)
      w.gatewayStatus =
        res !== "timeout" && res !== "closed" && res !== "invalid" && res.type === "res" && res.ok
          ? (res.payload as typeof w.gatewayStatus)
          : {}
      return w.gatewayStatus!
    })
  const localOnly = (why: string) =>
    skipped(`${why}: runs on the Gateway's own machine (\`openclaw doctor\` there, or the Control UI's Diagnose)`)

  const processStep: Step = {
    id: "process",
    run: Effect.gen(function* () {
      if (w.target!.remote) return localOnly("remote target")
      const st = yield* status()
      if (typeof st.pid !== "number" || typeof st.bind?.port !== "number")
        return skipped("this Gateway does not report its PID and port in status")
      return checkProcess(st.pid, st.bind.port, input.runtimeRecord?.(w.loaded!.stateDir))
    })
  }
  const stateStep: Step = {
    id: "state",
    run: Effect.sync(() => (w.target!.remote ? localOnly("remote target") : checkStateDir(w.loaded!.stateDir)))
  }
  const exposure: Step = {
    id: "exposure",
    run: Effect.gen(function* () {
      if (w.target!.remote) return localOnly("remote target")
      const st = yield* status()
      const mode = (st.exposure?.mode ?? w.loaded!.file.gateway?.tailscale?.mode ?? "off") as "off" | "serve" | "funnel"
      return yield* checkExposure(input.tailscale(), {
        mode,
        port: st.bind?.port ?? port(),
        tls: st.tls?.enabled ?? secure(),
        ...(st.exposure?.reason === undefined ? {} : { reason: st.exposure.reason })
      })
    })
  }
  const audit: Step = {
    id: "audit",
    run: Effect.sync(() => (w.target!.remote ? localOnly("remote target") : checkAudit(auditConfig(w.loaded!, env))))
  }

  return [
    config,
    targetStep,
    ssh,
    gatewayStep,
    ...networkSteps(w),
    ...protocolSteps(w),
    processStep,
    stateStep,
    exposure,
    audit
  ]
}

const sshDetail = (e: SshTunnelError, target: string): string => {
  switch (e.kind) {
    case "host-key-changed":
      return `the host key of ${target} does not match known_hosts`
    case "host-key-unknown":
      return `the host key of ${target} is not known`
    case "auth":
      return `${target} refused the SSH login`
    case "refused":
      return `nothing accepts SSH connections at ${target}`
    case "host-not-found":
      return `the SSH host of ${target} does not resolve`
    case "forward":
      return `${target} refused the port forward`
    case "local-port-in-use":
      return "no free local port for the forward"
    case "timeout":
      return `no SSH connection to ${target} (timed out)`
    default:
      return `ssh to ${target} failed (${e.kind})`
  }
}
