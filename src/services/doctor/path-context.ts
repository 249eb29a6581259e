/**
 * What the steps of `openclaw doctor`'s path walk share: the input, the report's target summary,
 * and what each step learns for the next ones (the config, the target, the address dialled, the
 * accepted certificate, the open WebSocket and the connect answer). Steps run in order, so each
 * reads only what earlier steps set.
 */
import * as net from "node:net"
import type { ClientFlags, Target } from "../../client/target.js"
import { pinnedTlsConnect } from "../../client/tls-pin.js"
import type { Env, LoadedConfig } from "../../config/load.js"
import type { ClientInfo, ConnectParams, ErrorShape, HelloOk } from "../../protocol/frames.js"
import type { TailscaleCliService } from "../tailscale/TailscaleCli.js"
import type { RuntimeRecord } from "./host-checks.js"
import type { FrameProbe } from "./probe.js"

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
  /** What the Gateway's /readyz said: ready, or degraded and why. */
  readiness?: { status: string; reasons: ReadonlyArray<string> }
}

/** The credential the walk sends, and which setting or flag it came from (never the value). */
export interface Credential {
  readonly kind?: "token" | "password"
  readonly describe: string
}

export type ConnectAnswer =
  { ok: true; hello: HelloOk } | { ok: false; error: ErrorShape } | { ok: false; closed: string }

/** The walk's state, filled in step by step. */
export interface PathWalk {
  readonly input: PathInput
  readonly summary: TargetSummary
  loaded?: LoadedConfig
  target?: Target
  credential: Credential
  dial?: URL
  addresses: Array<string>
  address: string
  fingerprint?: string
  probe?: FrameProbe
  connectAnswer?: ConnectAnswer
  connectMs: number
  gatewayStatus?: {
    pid?: number
    bind?: { port?: number }
    tls?: { enabled?: boolean }
    exposure?: { mode?: string; reason?: string }
  }
}

export const newWalk = (input: PathInput, summary: TargetSummary): PathWalk => ({
  input,
  summary,
  credential: { describe: "no credential" },
  addresses: [],
  address: "",
  connectMs: 0
})

const bracketless = (h: string) => h.replace(/^\[|\]$/g, "")

/** Where the walk dials, read when a step runs (the ssh step moves the port to the tunnel). */
export const dialOf = (w: PathWalk) => {
  const { timeoutMs } = w.input
  const host = () => bracketless(w.dial!.hostname)
  const port = () => Number(w.dial!.port || (w.dial!.protocol === "wss:" ? 443 : 80))
  const secure = () => w.dial!.protocol === "wss:"
  const where = () => `${host()}:${port()}`
  const via = () => (w.target!.ssh === undefined ? "" : ` (the SSH tunnel's local end for ${w.target!.ssh.target})`)
  /** Where to change the address, for fixes. */
  const addressSetting = () =>
    w.target!.ssh !== undefined
      ? `gateway.remote.remotePort (${w.target!.ssh.remotePort}: the Gateway's gateway.port on ${w.target!.ssh.host})`
      : w.target!.remote
        ? `the host and port in ${w.target!.source}`
        : "gateway.port (or OPENCLAW_GATEWAY_PORT)"
  /** A socket to the Gateway: plain, or TLS checked against the certificate the tls step accepted. */
  const openSocket = (): Promise<net.Socket> =>
    secure()
      ? pinnedTlsConnect(host(), port(), w.fingerprint!, timeoutMs)
      : new Promise((resolve, reject) => {
          const s = net.connect({ host: w.address, port: port() })
          s.once("connect", () => resolve(s))
          s.once("error", reject)
        })
  return { host, port, secure, where, via, addressSetting, openSocket }
}
