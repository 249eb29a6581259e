/**
 * `openclaw doctor`'s walk from this machine to the Gateway: config, target, ssh, dns, tcp, tls,
 * http, upgrade, challenge, auth, scopes, rpc, and on the Gateway's own machine its process,
 * state dir, exposure and audit. Target resolution is the one every client command uses
 * (client/target.ts); the steps only look at each link of the path it describes.
 */
import { randomUUID } from "node:crypto"
import * as dns from "node:dns"
import * as net from "node:net"
import { Effect, type Scope } from "effect"
import { checkPlaintext, resolveTarget, type ClientFlags, type Target } from "../../client/target.js"
import { pinnedTlsConnect } from "../../client/tls-pin.js"
import { type ConfigError, type Env, type LoadedConfig, loadConfig } from "../../config/load.js"
import { hasScope } from "../gateway/connection.js"
import { type ClientInfo, type ConnectParams, type ErrorShape, type HelloOk, OperatorScopes, PROTOCOL_VERSION, TLS_REQUIRED_HEADER, TLS_REQUIRED_VALUE } from "../../protocol/frames.js"
import { findOnPath } from "../../platform/executable.js"
import { auditConfig } from "../security/audit.js"
import { SshTunnel, type SshTunnelError } from "../ssh/SshTunnel.js"
import type { TailscaleCliService } from "../tailscale/TailscaleCli.js"
import { VERSION } from "../../version.js"
import { checkAudit, checkExposure, checkProcess, checkStateDir, type RuntimeRecord } from "./host-checks.js"
import { FrameProbe, rawGet, tcpConnect, tlsHandshake } from "./probe.js"
import { failed, passed, skipped, type Step } from "./steps.js"

export interface PathInput {
  readonly env: Env
  readonly flags: ClientFlags
  readonly timeoutMs: number
  /** Scopes asked for in connect (default: every operator scope, as `gateway call` asks). */
  readonly scopes?: ReadonlyArray<string>
  /** For a local target's exposure check. */
  readonly tailscale: () => TailscaleCliService
  /**
   * Connect as a paired device with its device token instead of as a plain operator (a node host
   * checking its own link; later an operator device). The token is sent, never shown.
   */
  readonly connectAs?: ConnectAs
  /** The running Gateway's runtime record, when this build keeps one. */
  readonly runtimeRecord?: (stateDir: string) => RuntimeRecord | undefined
}

export interface ConnectAs {
  readonly role: "node" | "operator"
  readonly client: ClientInfo
  readonly deviceToken: string
  /** Where the device token came from, for the report. */
  readonly deviceTokenSource: string
  /** Signs the connect request for the challenge's nonce. */
  readonly device: (nonce: string, params: ConnectParams) => NonNullable<ConnectParams["device"]>
}

/** What the report says about the target (never a secret). */
export interface TargetSummary {
  url?: string
  source?: string
  config?: string
  transport?: "direct" | "ssh"
  sshTarget?: string
  dialled?: string
  tlsPin?: string
  pinSource?: string
  credential?: string
  local?: boolean
}

/** What one command needs: read, write, admin, pairing (approvals is OpenClaw's exec approvals, unused here). */
const NEEDED = [
  ["operator.read", "read"],
  ["operator.write", "write"],
  ["operator.admin", "admin"],
  ["operator.pairing", "pairing"]
] as const

const bracketless = (h: string) => h.replace(/^\[|\]$/g, "")

/** Which setting or flag a credential came from, found by where its value is (the target holds only the value). */
const credentialOf = (t: Target, loaded: LoadedConfig, env: Env, flags: ClientFlags): { readonly kind?: "token" | "password"; readonly describe: string } => {
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
  const sent = [t.token === undefined ? undefined : from("token", t.token), t.password === undefined ? undefined : from("password", t.password)].filter((s) => s !== undefined)
  return { kind: t.token !== undefined ? "token" : t.password !== undefined ? "password" : undefined, describe: sent.length > 0 ? sent.join(" and ") : "no credential" }
}

export const pathSteps = (input: PathInput, summary: TargetSummary): Array<Step<SshTunnel | Scope.Scope>> => {
  const { env, flags, timeoutMs } = input
  let loaded: LoadedConfig | undefined
  let target: Target | undefined
  let credential: ReturnType<typeof credentialOf> = { describe: "no credential" }
  let dial: URL | undefined
  let addresses: Array<string> = []
  let address = ""
  let fingerprint: string | undefined
  let probe: FrameProbe | undefined
  let connectAnswer: { ok: true; hello: HelloOk } | { ok: false; error: ErrorShape } | { ok: false; closed: string } | undefined
  let connectMs = 0
  let gatewayStatus: { pid?: number; bind?: { port?: number }; tls?: { enabled?: boolean }; exposure?: { mode?: string; reason?: string } } | undefined

  const host = () => bracketless(dial!.hostname)
  const port = () => Number(dial!.port || (dial!.protocol === "wss:" ? 443 : 80))
  const secure = () => dial!.protocol === "wss:"
  const where = () => `${host()}:${port()}`
  const via = () => (target!.ssh === undefined ? "" : ` (the SSH tunnel's local end for ${target!.ssh.target})`)
  /** Where to change the address, for fixes. */
  const addressSetting = () =>
    target!.ssh !== undefined
      ? `gateway.remote.remotePort (${target!.ssh.remotePort}: the Gateway's gateway.port on ${target!.ssh.host})`
      : target!.remote
        ? `the host and port in ${target!.source}`
        : "gateway.port (or OPENCLAW_GATEWAY_PORT)"
  /** A socket to the Gateway: plain, or TLS checked against the certificate the tls step accepted. */
  const openSocket = (): Promise<net.Socket> =>
    secure() ? pinnedTlsConnect(host(), port(), fingerprint!, timeoutMs) : new Promise((resolve, reject) => {
      const s = net.connect({ host: address, port: port() })
      s.once("connect", () => resolve(s))
      s.once("error", reject)
    })

  const config: Step = {
    id: "config",
    run: Effect.gen(function* () {
      const result = yield* Effect.either(loadConfig(env))
      if (result._tag === "Left") return failed(result.left.message, "fix the file as the message says (doctor never changes it), or point OPENCLAW_CONFIG_PATH at another one")
      loaded = result.right
      summary.config = loaded.configPath
      return passed(loaded.exists ? `${loaded.configPath} parses and validates` : `${loaded.configPath} does not exist: defaults apply`)
    })
  }

  const targetStep: Step = {
    id: "target",
    run: Effect.sync(() => {
      try {
        target = resolveTarget(loaded!, env, flags)
      } catch (e) {
        return failed("the target cannot be resolved", (e as ConfigError).message ?? String(e))
      }
      credential = credentialOf(target, loaded!, env, flags)
      if (input.connectAs !== undefined) {
        const device = `device token (from ${input.connectAs.deviceTokenSource})`
        credential = { kind: credential.kind, describe: credential.kind === undefined ? device : `${credential.describe} and ${device}` }
      }
      Object.assign(summary, {
        url: target.url,
        source: target.source,
        transport: target.ssh === undefined ? "direct" : "ssh",
        ...(target.ssh === undefined ? {} : { sshTarget: target.ssh.target }),
        ...(target.tlsFingerprint === undefined ? {} : { tlsPin: target.tlsFingerprint, pinSource: target.pinSource }),
        credential: credential.describe,
        local: !target.remote
      })
      dial = new URL(target.url)
      if (target.ssh === undefined) {
        try {
          checkPlaintext(target.url, env)
        } catch (e) {
          return failed(`${target.url} (${target.source}) is plaintext ws:// to a public address; the client refuses it`, (e as ConfigError).message)
        }
      }
      const pin = target.tlsFingerprint === undefined ? "" : `; TLS pin from ${target.pinSource}`
      return passed(`${target.url}${target.ssh === undefined ? "" : ` on ${target.ssh.target} (SSH)`} from ${target.source}; ${credential.describe}${pin}`)
    })
  }

  const ssh: Step<SshTunnel | Scope.Scope> = {
    id: "ssh",
    run: Effect.gen(function* () {
      const spec = target!.ssh
      if (spec === undefined) return skipped("direct connection (gateway.remote.transport is not \"ssh\")")
      if (findOnPath(["ssh"], env.PATH) === undefined) return failed("ssh is not installed (not on PATH)", "install the OpenSSH client (apt-get install openssh-client, or your system's package)")
      const tunnel = yield* Effect.either((yield* SshTunnel).open(spec, { connectTimeoutS: Math.max(1, Math.ceil(timeoutMs / 1000)) }))
      if (tunnel._tag === "Left") return failed(sshDetail(tunnel.left, spec.target), tunnel.left.message)
      dial!.port = String(tunnel.right.localPort)
      summary.dialled = dial!.toString().replace(/\/$/, "")
      return passed(`${spec.target}: host key known and matching, login accepted, forward 127.0.0.1:${tunnel.right.localPort} -> 127.0.0.1:${spec.remotePort} open (ssh pid ${tunnel.right.pid})`)
    })
  }

  const dnsStep: Step = {
    id: "dns",
    run: Effect.promise(async () => {
      const name = host()
      if (net.isIP(name) !== 0) {
        addresses = [name]
        return passed(`${name} is an IP address (nothing to resolve)`)
      }
      try {
        const found = await Promise.race([
          dns.promises.lookup(name, { all: true }),
          new Promise<never>((_, reject) => setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" })), timeoutMs).unref())
        ])
        addresses = found.map((a) => a.address)
        return passed(`${name} -> ${addresses.join(", ")}`)
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "ERROR"
        return code === "ENOTFOUND"
          ? failed(`${name} does not resolve (ENOTFOUND)`, `check the host name in ${target!.source}; for a tailnet name, is MagicDNS on and Tailscale up here?`)
          : failed(`no answer resolving ${name} (${code})`, "this machine's DNS did not answer: check its network and resolver, or use an IP address")
      }
    })
  }

  const tcp: Step = {
    id: "tcp",
    run: Effect.promise(async () => {
      let first: Awaited<ReturnType<typeof tcpConnect>> | undefined
      for (const a of addresses) {
        const r = await tcpConnect(a, port(), timeoutMs)
        if (r.ok) {
          address = a
          return passed(`connected to ${net.isIPv6(a) ? `[${a}]` : a}:${port()}${via()}`)
        }
        first ??= r
      }
      const r = first!
      const at = `${addresses[0]}:${port()}`
      if (r.ok) return passed(at)
      if (r.why === "refused") {
        return failed(
          `${at} refused the connection (ECONNREFUSED): nothing listens there`,
          target!.remote ? `start the Gateway there, check ${addressSetting()}, and that its gateway.bind lets this machine in (a loopback Gateway needs an SSH tunnel or Tailscale Serve)` : `start the Gateway (\`openclaw gateway run\`), or check ${addressSetting()}`
        )
      }
      if (r.why === "timeout") return failed(`no answer from ${at} within ${timeoutMs} ms (timed out: packets dropped, or the host is down)`, `check firewalls between here and ${host()}, and ${addressSetting()}`)
      if (r.why === "unreachable") return failed(`${at} is unreachable (${r.code}): no route to the host`, `check this machine's network (VPN or Tailscale up?) and ${addressSetting()}`)
      return failed(`cannot connect to ${at} (${r.code})`, `check ${addressSetting()}`)
    })
  }

  const tlsStep: Step = {
    id: "tls",
    run: Effect.promise(async () => {
      if (!secure()) {
        // Plaintext to a TLS port: the Gateway answers with its marker header, other TLS servers with an alert.
        const s = await openSocket().catch(() => undefined)
        const r = s === undefined ? undefined : await rawGet(s, dial!.host, "/healthz", timeoutMs)
        if (r?.kind === "tls" || (r?.kind === "http" && r.headers[TLS_REQUIRED_HEADER] === TLS_REQUIRED_VALUE)) {
          return failed(
            `${where()} speaks only TLS, but the target is plaintext ws://${r.kind === "http" ? " (the Gateway has gateway.tls.enabled)" : ""}`,
            target!.ssh !== undefined
              ? "set gateway.remote.tlsFingerprint to the fingerprint `openclaw gateway status` shows on the Gateway host (the tunnel then carries wss://)"
              : "use a wss:// URL (gateway.remote.url or --url) and pin the certificate with gateway.remote.tlsFingerprint or --tls-fingerprint (`openclaw gateway status` on the Gateway host shows it)"
          )
        }
        return skipped("ws:// (plaintext; no TLS)")
      }
      const name = host()
      const r = await tlsHandshake(address, net.isIP(name) === 0 ? name : undefined, port(), timeoutMs)
      if (!r.ok) {
        return r.plaintextPeer
          ? failed(`${where()} does not speak TLS (${r.message}): it is a plaintext port`, "use ws:// for this Gateway (through an SSH tunnel or on a private address), or set gateway.tls.enabled true on it and restart it")
          : failed(`TLS handshake with ${where()} failed (${r.message})`, "check that the Gateway serves wss:// (gateway.tls.enabled) on this port")
      }
      const pin = target!.tlsFingerprint
      if (pin !== undefined && r.fingerprint !== pin) {
        return failed(
          `certificate mismatch: expected sha256 ${pin} (${target!.pinSource}), the server presented ${r.fingerprint}; nothing but the TLS handshake was sent`,
          target!.pinSource?.startsWith("local")
            ? "restart the Gateway so it serves its current certificate"
            : `if the Gateway's certificate was replaced on purpose, ${target!.pinSource?.startsWith("--") ? `pass ${target!.pinSource} with` : `set ${target!.pinSource} to`} the fingerprint \`openclaw gateway status\` shows on the Gateway host; otherwise something is intercepting the connection`
        )
      }
      if (pin === undefined && !r.authorized) {
        return failed(
          `the certificate (sha256 ${r.fingerprint}) is not trusted by this machine's CAs (${r.authError ?? "unverified"})`,
          "for the Gateway's own self-signed certificate: compare that fingerprint with `openclaw gateway status` on the Gateway host, then set gateway.remote.tlsFingerprint (or pass --tls-fingerprint) to it"
        )
      }
      fingerprint = r.fingerprint
      return passed(`${r.protocol}, certificate sha256 ${r.fingerprint} ${pin !== undefined ? `matches the pin (${target!.pinSource})` : "trusted by the system CAs"}`)
    })
  }

  const http: Step = {
    id: "http",
    run: Effect.promise(async () => {
      const s = await openSocket().catch((e: Error) => e)
      if (s instanceof Error) return failed(`cannot reconnect to ${where()}: ${s.message}`, `check ${addressSetting()}`)
      const r = await rawGet(s, dial!.host, "/healthz", timeoutMs)
      const elsewhere = `something other than an OpenClaw Gateway listens on ${where()}${via()}: point ${addressSetting()} at the Gateway's port, or stop what listens there`
      switch (r.kind) {
        case "http": {
          let body: { ok?: unknown; status?: unknown } = {}
          try {
            body = JSON.parse(r.body) as typeof body
          } catch {
            // not JSON
          }
          if (r.status === 200 && body.ok === true && body.status === "live") return passed(`GET /healthz: 200 {"ok":true,"status":"live"}`)
          const server = r.headers.server === undefined ? "" : ` from ${JSON.stringify(r.headers.server.slice(0, 60))}`
          const type = r.headers["content-type"] === undefined ? "" : ` (${r.headers["content-type"].split(";")[0]})`
          return failed(`GET /healthz answered HTTP ${r.status}${type}${server}: not an OpenClaw Gateway`, elsewhere)
        }
        case "tls":
          return failed(`${where()} answered plaintext HTTP with TLS`, "use wss://")
        case "other":
          return failed(`${where()} does not speak HTTP: it sent ${r.banner}${r.banner.startsWith('"SSH-') ? " (an SSH server)" : ""}`, elsewhere)
        case "closed":
        case "error":
          return failed(
            `${where()} closed the connection without answering GET /healthz${r.kind === "error" ? ` (${r.message})` : ""}`,
            target!.ssh !== undefined
              ? `the tunnel is up, but nothing answers on 127.0.0.1:${target!.ssh.remotePort} on ${target!.ssh.host}: start the Gateway there (\`openclaw gateway run\`) and check gateway.remote.remotePort is its gateway.port`
              : elsewhere
          )
        case "timeout":
          return failed(`no HTTP answer from ${where()} within ${timeoutMs} ms`, elsewhere)
      }
    })
  }

  const upgrade: Step<Scope.Scope> = {
    id: "upgrade",
    run: Effect.gen(function* () {
      const socket = secure() ? yield* Effect.promise(() => openSocket().catch(() => undefined)) : undefined
      if (secure() && socket === undefined) return failed(`cannot reconnect to ${where()}`, `check ${addressSetting()}`)
      const url = dial!.toString()
      const opened = yield* Effect.acquireRelease(
        Effect.promise(() => FrameProbe.open(url, timeoutMs, socket === undefined ? undefined : () => socket)),
        ({ probe: p }) => Effect.sync(() => p.close())
      )
      probe = opened.probe
      const u = opened.upgrade
      if (u.ok) return passed("HTTP 101: WebSocket accepted")
      if (u.status === undefined) return failed(`the WebSocket upgrade failed (${u.reason})`, `check ${addressSetting()}`)
      const reason = u.reason.length > 0 ? `: ${u.reason}` : ""
      const fix = /origin/i.test(u.reason)
        ? "add the page's origin to gateway.controlUi.allowedOrigins on the Gateway (the CLI itself sends no Origin)"
        : /host/i.test(u.reason)
          ? "connect with a name the Gateway knows as its own (loopback, its bind address, its Tailscale name), or add that origin to gateway.controlUi.allowedOrigins on the Gateway"
          : u.status === 503
            ? "the Gateway is shutting down: wait for it to come back, then retry"
            : "the server speaks HTTP but refused the WebSocket: check that this is the Gateway's port"
      return failed(`the upgrade was refused with HTTP ${u.status}${reason}`, fix)
    })
  }

  const challenge: Step = {
    id: "challenge",
    run: Effect.promise(async () => {
      const p = probe!
      const started = performance.now()
      const first = await p.next(timeoutMs)
      const waited = Math.round(performance.now() - started)
      const notV4 = "point the target at an OpenClaw Gateway (protocol v4): an older Gateway does not send connect.challenge; update it"
      if (first === "timeout") return failed(`no connect.challenge within ${timeoutMs} ms`, notV4)
      if (first === "closed") return failed(`the server closed the WebSocket (${p.closed!.code}${p.closed!.reason ? `: ${p.closed!.reason}` : ""}) before connect.challenge`, notV4)
      if (first === "invalid" || first.type !== "event" || first.event !== "connect.challenge") {
        return failed(`the first frame was ${first === "invalid" ? "not protocol JSON" : `${first.type} ${"event" in first ? first.event : ""}`.trim()}, not connect.challenge`, notV4)
      }
      const id = randomUUID()
      const as = input.connectAs
      const auth = {
        ...(target!.token === undefined ? {} : { token: target!.token }),
        ...(target!.password === undefined ? {} : { password: target!.password }),
        ...(as === undefined ? {} : { deviceToken: as.deviceToken })
      }
      const params: ConnectParams = {
        minProtocol: PROTOCOL_VERSION,
        maxProtocol: PROTOCOL_VERSION,
        client: as?.client ?? { id: "cli", version: VERSION, platform: process.platform, mode: "cli", displayName: "openclaw doctor" },
        role: as?.role ?? "operator",
        scopes: as?.role === "node" ? [] : [...(input.scopes ?? OperatorScopes)],
        caps: [],
        ...(Object.keys(auth).length > 0 ? { auth } : {})
      }
      const nonce = (first.payload as { nonce?: unknown } | undefined)?.nonce
      const sent = performance.now()
      p.send({ type: "req", id, method: "connect", params: as === undefined ? params : { ...params, device: as.device(typeof nonce === "string" ? nonce : "", params) } })
      const res = await p.next(timeoutMs, (f) => f !== "invalid" && f.type === "res" && f.id === id)
      connectMs = Math.round(performance.now() - sent)
      if (res === "timeout") return failed(`no answer to connect within ${timeoutMs} ms`, "the Gateway accepted the socket but does not answer: it may be overloaded; check its log")
      if (res === "closed" || res === "invalid" || res.type !== "res") {
        if (p.closed?.code === 1002) return failed(`the Gateway closed with 1002 (protocol mismatch): ${p.closed.reason}`, `update openclaw here or on the Gateway: this CLI speaks protocol ${PROTOCOL_VERSION}`)
        connectAnswer = { ok: false, closed: `${p.closed?.code ?? "?"}${p.closed?.reason ? `: ${p.closed.reason}` : ""}` }
      } else if (res.ok) connectAnswer = { ok: true, hello: res.payload as HelloOk }
      else {
        const error = res.error ?? { code: "UNAVAILABLE", message: "connect failed" }
        if ((error.details as { code?: string } | undefined)?.code === "PROTOCOL_MISMATCH") {
          return failed(`protocol mismatch: ${error.message}`, `update openclaw here or on the Gateway: this CLI speaks protocol ${PROTOCOL_VERSION}`)
        }
        connectAnswer = { ok: false, error }
      }
      return passed(`connect.challenge received; protocol ${connectAnswer.ok ? connectAnswer.hello.protocol : PROTOCOL_VERSION} agreed`, waited)
    })
  }

  const authStep: Step = {
    id: "auth",
    run: Effect.sync(() => {
      const a = connectAnswer!
      if (a.ok) return passed(`accepted: sent ${credential.describe}; signed in by ${a.hello.auth.method} as ${a.hello.auth.role}`, connectMs)
      if ("closed" in a) return failed(`the Gateway closed the connection during connect (${a.closed}); sent ${credential.describe}`, "check the Gateway's log (`openclaw gateway run --verbose` logs every refused connect)", connectMs)
      const { detail, fix } = authFailure(a.error, target!, credential)
      return failed(detail, fix, connectMs)
    })
  }

  const scopes: Step = {
    id: "scopes",
    run: Effect.sync(() => {
      const hello = (connectAnswer as { hello: HelloOk }).hello
      const granted = hello.auth.scopes ?? []
      const may = NEEDED.filter(([s]) => hasScope(granted, s)).map(([, label]) => label)
      const missing = NEEDED.filter(([s]) => !hasScope(granted, s))
      if (missing.length === 0) return passed(`may ${may.join(", ")} (granted ${granted.join(", ")})`)
      return failed(
        `granted ${granted.length > 0 ? granted.join(", ") : "no scope"}: may ${may.length > 0 ? may.join(", ") : "nothing"}, not ${missing.map(([, l]) => l).join(", ")} (${missing.map(([s]) => USES[s]).join("; ")})`,
        `connect with the Gateway's shared ${credential.kind ?? "token"} (${credential.kind === "password" ? "gateway.remote.password or --password" : "gateway.remote.token or --token"}), which grants every operator scope; a credential limited to fewer scopes is refused those commands`
      )
    })
  }

  const rpc: Step = {
    id: "rpc",
    run: Effect.promise(async () => {
      const p = probe!
      const id = randomUUID()
      const started = performance.now()
      p.send({ type: "req", id, method: "health" })
      const res = await p.next(timeoutMs, (f) => f !== "invalid" && f.type === "res" && f.id === id)
      const ms = Math.round(performance.now() - started)
      const hello = (connectAnswer as { hello: HelloOk }).hello
      if (res === "timeout") return failed(`no answer to health within ${timeoutMs} ms`, "the Gateway is connected but does not answer: it may be overloaded or stuck; restart it")
      if (res === "closed" || res === "invalid" || res.type !== "res") return failed(`the connection closed during health (${p.closed?.code ?? "?"})`, "check the Gateway's log")
      if (!res.ok) {
        const code = (res.error?.details as { code?: string } | undefined)?.code
        return failed(`health failed: ${res.error?.code}: ${res.error?.message}`, code === "MISSING_SCOPE" ? "this credential may not even read: connect with the Gateway's shared token or password" : "check the Gateway's log")
      }
      return passed(`health ok, round trip ${ms} ms (Gateway ${hello.server.version}, protocol ${hello.protocol})`, ms)
    })
  }

  /** The Gateway's own status (PID, port, exposure), for the local extras. */
  const status = () =>
    Effect.promise(async () => {
      if (gatewayStatus !== undefined) return gatewayStatus
      const id = randomUUID()
      probe!.send({ type: "req", id, method: "status" })
      const res = await probe!.next(timeoutMs, (f) => f !== "invalid" && f.type === "res" && f.id === id)
      gatewayStatus = res !== "timeout" && res !== "closed" && res !== "invalid" && res.type === "res" && res.ok ? (res.payload as typeof gatewayStatus) : {}
      return gatewayStatus!
    })
  const localOnly = (why: string) => skipped(`${why}: runs on the Gateway's own machine (\`openclaw doctor\` there, or the Control UI's Diagnose)`)

  const processStep: Step = {
    id: "process",
    run: Effect.gen(function* () {
      if (target!.remote) return localOnly("remote target")
      const st = yield* status()
      if (typeof st.pid !== "number" || typeof st.bind?.port !== "number") return skipped("this Gateway does not report its PID and port in status")
      return checkProcess(st.pid, st.bind.port, input.runtimeRecord?.(loaded!.stateDir))
    })
  }
  const stateStep: Step = {
    id: "state",
    run: Effect.sync(() => (target!.remote ? localOnly("remote target") : checkStateDir(loaded!.stateDir)))
  }
  const exposure: Step = {
    id: "exposure",
    run: Effect.gen(function* () {
      if (target!.remote) return localOnly("remote target")
      const st = yield* status()
      const mode = (st.exposure?.mode ?? loaded!.file.gateway?.tailscale?.mode ?? "off") as "off" | "serve" | "funnel"
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
    run: Effect.sync(() => (target!.remote ? localOnly("remote target") : checkAudit(auditConfig(loaded!, env))))
  }

  return [config, targetStep, ssh, dnsStep, tcp, tlsStep, http, upgrade, challenge, authStep, scopes, rpc, processStep, stateStep, exposure, audit]
}

const USES: Record<string, string> = {
  "operator.read": "health, status, history need read",
  "operator.write": "agent and send need write",
  "operator.admin": "browser and node.invoke need admin",
  "operator.pairing": "nodes approve/reject need pairing"
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

/** A refused connect: what was wrong, and which setting or flag fixes it. */
export const authFailure = (error: ErrorShape, target: Target, credential: { readonly kind?: "token" | "password"; readonly describe: string }): { detail: string; fix: string } => {
  const code = (error.details as { code?: string } | undefined)?.code ?? error.code
  const sent = `sent ${credential.describe}`
  const kind = code.includes("PASSWORD") ? "password" : code.includes("TOKEN") ? "token" : credential.kind ?? "token"
  const setting = target.remote
    ? `set gateway.remote.${kind} to the server's gateway.auth.${kind} (or pass --${kind}); gateway.remote.${kind} is only this CLI's credential and never configures a Gateway`
    : `make gateway.auth.${kind} in ${target.configPath} (or OPENCLAW_GATEWAY_${kind.toUpperCase()}) match the running Gateway's ${kind}, or pass --${kind}; a Gateway started with --${kind} keeps that one until restarted`
  switch (code) {
    case "AUTH_TOKEN_MISSING":
    case "AUTH_PASSWORD_MISSING":
      return { detail: `${kind} missing: the Gateway wants its ${kind} and got ${credential.kind === undefined ? "none" : `a ${credential.kind}`} (${code})`, fix: setting }
    case "AUTH_TOKEN_MISMATCH":
    case "AUTH_PASSWORD_MISMATCH":
      return { detail: `${kind} mismatch: ${sent}, the Gateway has another (${code})`, fix: setting }
    case "AUTH_RATE_LIMITED": {
      const wait = error.retryAfterMs === undefined ? "" : ` for ${Math.ceil(error.retryAfterMs / 1000)} s`
      return {
        detail: `rate-limited: too many wrong attempts from this address; the Gateway refuses every try${wait} (${code})`,
        fix: `wait${wait}, then retry with the right credential (${setting.split(";")[0]}); gateway.auth.rateLimit on the Gateway sets the limits`
      }
    }
    case "AUTH_DEVICE_TOKEN_MISMATCH":
      return {
        detail: `device token revoked or stale: the Gateway no longer accepts this device's token (${code})`,
        fix: `this device was removed or re-paired on the Gateway: connect once with the Gateway's ${kind === "password" ? "password" : "token"} to pair again, and ask its operator to approve it (\`openclaw nodes pending\`)`
      }
    case "PAIRING_REQUIRED":
      return { detail: `this device is waiting for approval (${code})`, fix: "approve it on the Gateway host: `openclaw nodes pending`, then `openclaw nodes approve <requestId>`" }
    case "AUTH_TAILSCALE_IDENTITY_MISSING":
    case "AUTH_TAILSCALE_PROXY_MISSING":
    case "AUTH_TAILSCALE_WHOIS_FAILED":
    case "AUTH_TAILSCALE_IDENTITY_MISMATCH":
      return { detail: `Tailscale identity refused: ${error.message} (${code})`, fix: `${setting.split(";")[0]}, or come through Tailscale Serve with gateway.auth.allowTailscale on` }
    default:
      return { detail: `refused: ${error.message} (${code})`, fix: "check the Gateway's log (`openclaw gateway run --verbose` logs every refused connect)" }
  }
}
