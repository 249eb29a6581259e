/**
 * The protocol steps of the path walk: upgrade, challenge (and connect), auth, scopes, rpc (over
 * one WebSocket, which the local extras reuse for status).
 */
import { randomUUID } from "node:crypto"
import { Effect, type Scope } from "effect"
import { currentUid, foreignListener } from "../../client/listener-owner.js"
import type { Target } from "../../client/target.js"
import {
  type ConnectParams,
  type ErrorShape,
  type HelloOk,
  OperatorScopes,
  PROTOCOL_VERSION
} from "../../protocol/frames.js"
import { VERSION } from "../../version.js"
import { hasScope } from "../gateway/api.js"
import { dialOf, type Credential, type PathWalk } from "./path-context.js"
import { FrameProbe } from "./probe.js"
import { failed, passed, type Step } from "./steps.js"

/** What one command needs: read, write, admin, pairing (approvals is OpenClaw's exec approvals, unused here). */
const NEEDED = [
  ["operator.read", "read"],
  ["operator.write", "write"],
  ["operator.admin", "admin"],
  ["operator.pairing", "pairing"]
] as const

export const protocolSteps = (w: PathWalk): Array<Step<Scope.Scope>> => {
  const { input } = w
  const { timeoutMs } = input
  const { secure, where, addressSetting, openSocket } = dialOf(w)

  const upgrade: Step<Scope.Scope> = {
    id: "upgrade",
    run: Effect.gen(function* () {
      const socket = secure() ? yield* Effect.promise(() => openSocket().catch(() => undefined)) : undefined
      if (secure() && socket === undefined) return failed(`cannot reconnect to ${where()}`, `check ${addressSetting()}`)
      const url = w.dial!.toString()
      const opened = yield* Effect.acquireRelease(
        Effect.promise(() => FrameProbe.open(url, timeoutMs, socket === undefined ? undefined : () => socket)),
        ({ probe: p }) => Effect.sync(() => p.close())
      )
      w.probe = opened.probe
      const u = opened.upgrade
      if (u.ok) return passed("HTTP 101: WebSocket accepted")
      if (u.status === undefined)
        return failed(`the WebSocket upgrade failed (${u.reason})`, `check ${addressSetting()}`)
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
      const p = w.probe!
      const started = performance.now()
      const first = await p.next(timeoutMs)
      const waited = Math.round(performance.now() - started)
      const notV4 =
        "point the target at an OpenClaw Gateway (protocol v4): an older Gateway does not send connect.challenge; update it"
      if (first === "timeout") return failed(`no connect.challenge within ${timeoutMs} ms`, notV4)
      if (first === "closed")
        return failed(
          `the server closed the WebSocket (${p.closed!.code}${p.closed!.reason ? `: ${p.closed!.reason}` : ""}) before connect.challenge`,
          notV4
        )
      if (first === "invalid" || first.type !== "event" || first.event !== "connect.challenge") {
        return failed(
          `the first frame was ${first === "invalid" ? "not protocol JSON" : `${first.type} ${"event" in first ? first.event : ""}`.trim()}, not connect.challenge`,
          notV4
        )
      }
      const as = input.connectAs
      const holding =
        w.target!.token !== undefined || w.target!.password !== undefined || as !== undefined
          ? foreignListener(w.dial!.toString(), {
              uid: currentUid(),
              ...(w.target!.running === undefined ? {} : { recordedPid: w.target!.running.pid })
            })
          : undefined
      if (holding !== undefined)
        return failed(
          holding,
          "`openclaw gateway run --port 0` starts your Gateway on a free port, and the CLI finds it there"
        )
      const id = randomUUID()
      const auth = {
        ...(w.target!.token === undefined ? {} : { token: w.target!.token }),
        ...(w.target!.password === undefined ? {} : { password: w.target!.password }),
        ...(as === undefined ? {} : { deviceToken: as.deviceToken })
      }
      const params: ConnectParams = {
        minProtocol: PROTOCOL_VERSION,
        maxProtocol: PROTOCOL_VERSION,
        client: as?.client ?? {
          id: "cli",
          version: VERSION,
          platform: process.platform,
          mode: "cli",
          displayName: "openclaw doctor"
        },
        role: as?.role ?? "operator",
        scopes: as?.role === "node" ? [] : [...(input.scopes ?? OperatorScopes)],
        caps: [],
        ...(Object.keys(auth).length > 0 ? { auth } : {})
      }
      const nonce = (first.payload as { nonce?: unknown } | undefined)?.nonce
      const sent = performance.now()
      p.send({
        type: "req",
        id,
        method: "connect",
        params:
          as === undefined ? params : { ...params, device: as.device(typeof nonce === "string" ? nonce : "", params) }
      })
      const res = await p.next(timeoutMs, (f) => f !== "invalid" && f.type === "res" && f.id === id)
      w.connectMs = Math.round(performance.now() - sent)
      if (res === "timeout")
        return failed(
          `no answer to connect within ${timeoutMs} ms`,
          "the Gateway accepted the socket but does not answer: it may be overloaded; check its log"
        )
      if (res === "closed" || res === "invalid" || res.type !== "res") {
        if (p.closed?.code === 1002)
          return failed(
            `the Gateway closed with 1002 (protocol mismatch): ${p.closed.reason}`,
            `update openclaw here or on the Gateway: this CLI speaks protocol ${PROTOCOL_VERSION}`
          )
        w.connectAnswer = {
          ok: false,
          closed: `${p.closed?.code ?? "?"}${p.closed?.reason ? `: ${p.closed.reason}` : ""}`
        }
      } else if (res.ok) w.connectAnswer = { ok: true, hello: res.payload as HelloOk }
      else {
        const error = res.error ?? { code: "UNAVAILABLE", message: "connect failed" }
        if ((error.details as { code?: string } | undefined)?.code === "PROTOCOL_MISMATCH") {
          return failed(
            `protocol mismatch: ${error.message}`,
            `update openclaw here or on the Gateway: this CLI speaks protocol ${PROTOCOL_VERSION}`
          )
        }
        w.connectAnswer = { ok: false, error }
      }
      return passed(
        `connect.challenge received; protocol ${w.connectAnswer.ok ? w.connectAnswer.hello.protocol : PROTOCOL_VERSION} agreed`,
        waited
      )
    })
  }

  const authStep: Step = {
    id: "auth",
    run: Effect.sync(() => {
      const a = w.connectAnswer!
      if (a.ok)
        return passed(
          `accepted: sent ${w.credential.describe}; signed in by ${a.hello.auth.method} as ${a.hello.auth.role}`,
          w.connectMs
        )
      if ("closed" in a)
        return failed(
          `the Gateway closed the connection during connect (${a.closed}); sent ${w.credential.describe}`,
          "check the Gateway's log (`openclaw gateway run --verbose` logs every refused connect)",
          w.connectMs
        )
      const { detail, fix } = authFailure(a.error, w.target!, w.credential)
      return failed(detail, fix, w.connectMs)
    })
  }

  const scopes: Step = {
    id: "scopes",
    run: Effect.sync(() => {
      const hello = (w.connectAnswer as { hello: HelloOk }).hello
      const granted = hello.auth.scopes ?? []
      const may = NEEDED.filter(([s]) => hasScope(granted, s)).map(([, label]) => label)
      const missing = NEEDED.filter(([s]) => !hasScope(granted, s))
      if (missing.length === 0) return passed(`may ${may.join(", ")} (granted ${granted.join(", ")})`)
      return failed(
        `granted ${granted.length > 0 ? granted.join(", ") : "no scope"}: may ${may.length > 0 ? may.join(", ") : "nothing"}, not ${missing.map(([, l]) => l).join(", ")} (${missing.map(([s]) => USES[s]).join("; ")})`,
        `connect with the Gateway's shared ${w.credential.kind ?? "token"} (${w.credential.kind === "password" ? "gateway.remote.password or --password" : "gateway.remote.token or --token"}), which grants every operator scope; a credential limited to fewer scopes is refused those commands`
      )
    })
  }

  const rpc: Step = {
    id: "rpc",
    run: Effect.promise(async () => {
      const p = w.probe!
      const id = randomUUID()
      const started = performance.now()
      p.send({ type: "req", id, method: "health" })
      const res = await p.next(timeoutMs, (f) => f !== "invalid" && f.type === "res" && f.id === id)
      const ms = Math.round(performance.now() - started)
      const hello = (w.connectAnswer as { hello: HelloOk }).hello
      if (res === "timeout")
        return failed(
          `no answer to health within ${timeoutMs} ms`,
          "the Gateway is connected but does not answer: it may be overloaded or stuck; restart it"
        )
      if (res === "closed" || res === "invalid" || res.type !== "res")
        return failed(`the connection closed during health (${p.closed?.code ?? "?"})`, "check the Gateway's log")
      if (!res.ok) {
        const code = (res.error?.details as { code?: string } | undefined)?.code
        return failed(
          `health failed: ${res.error?.code}: ${res.error?.message}`,
          code === "MISSING_SCOPE"
            ? "this credential may not even read: connect with the Gateway's shared token or password"
            : "check the Gateway's log"
        )
      }
      // hello-ok's server.version is the OpenClaw level we are compatible with; health says what we are.
      const version = (res.payload as { version?: unknown } | undefined)?.version
      const gatewayVersion = typeof version === "string" ? version : hello.server.version
      return passed(`health ok, round trip ${ms} ms (Gateway ${gatewayVersion}, protocol ${hello.protocol})`, ms)
    })
  }

  return [upgrade, challenge, authStep, scopes, rpc]
}

const USES: Record<string, string> = {
  "operator.read": "health, status, history need read",
  "operator.write": "agent and send need write",
  "operator.admin": "browser and node.invoke need admin",
  "operator.pairing": "nodes approve/reject need pairing"
}

export const authFailure = (
  error: ErrorShape,
  target: Target,
  credential: Credential
): { detail: string; fix: string } => {
  const code = (error.details as { code?: string } | undefined)?.code ?? error.code
  const sent = `sent ${credential.describe}`
  const kind = code.includes("PASSWORD") ? "password" : code.includes("TOKEN") ? "token" : (credential.kind ?? "token")
  const setting = target.remote
    ? `set gateway.remote.${kind} to the server's gateway.auth.${kind} (or pass --${kind}); gateway.remote.${kind} is only this CLI's credential and never configures a Gateway`
    : `make gateway.auth.${kind} in ${target.configPath} (or OPENCLAW_GATEWAY_${kind.toUpperCase()}) match the running Gateway's ${kind}, or pass --${kind}; a Gateway started with --${kind} keeps that one until restarted`
  switch (code) {
    case "AUTH_TOKEN_MISSING":
    case "AUTH_PASSWORD_MISSING":
      return {
        detail: `${kind} missing: the Gateway wants its ${kind} and got ${credential.kind === undefined ? "none" : `a ${credential.kind}`} (${code})`,
        fix: setting
      }
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
      return {
        detail: `this device is waiting for approval (${code})`,
        fix: "approve it on the Gateway host: `openclaw nodes pending`, then `openclaw nodes approve <requestId>`"
      }
    case "AUTH_TAILSCALE_IDENTITY_MISSING":
    case "AUTH_TAILSCALE_PROXY_MISSING":
    case "AUTH_TAILSCALE_WHOIS_FAILED":
    case "AUTH_TAILSCALE_IDENTITY_MISMATCH":
      return {
        detail: `Tailscale identity refused: ${error.message} (${code})`,
        fix: `${setting.split(";")[0]}, or come through Tailscale Serve with gateway.auth.allowTailscale on`
      }
    default:
      return {
        detail: `refused: ${error.message} (${code})`,
        fix: "check the Gateway's log (`openclaw gateway run --verbose` logs every refused connect)"
      }
  }
}
