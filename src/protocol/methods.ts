/**
 * Typed RPC: method name -> params and result, shared by the server and the client. A method not
 * listed here is still callable (its params and result are `unknown`); list one when its shape is
 * part of the public API. Params of the methods whose requests the Gateway decodes with a Schema
 * are that Schema's encoded side (params.ts): what a client sends is what the server accepts.
 */
import type { Schema } from "effect"
import type {
  AgentParams,
  AgentWaitParams,
  BrowserRequestParams,
  ChatAbortParams,
  ChatHistoryParams,
  NodeInvokeParams,
  SendParams
} from "./params.js"

/** What a client sends for a params Schema (defaults make fields optional on this side). */
type Wire<S extends Schema.Schema.Any> = Schema.Schema.Encoded<S>

/** The `health` answer. */
export interface HealthResult {
  readonly ok: true
  readonly ts: number
  readonly durationMs: number
  readonly version: string
  readonly uptimeMs: number
}

/** One authenticated client, as `system-presence` and presence events list it. */
export interface PresenceEntry {
  readonly connId: string
  readonly client: {
    readonly id: string
    readonly version: string
    readonly platform: string
    readonly mode: string
    readonly displayName?: string
  }
  readonly role: string
  readonly scopes: ReadonlyArray<string>
  readonly host: string
  readonly since: number
  /** How the client authenticated, and for Tailscale identity who it is. */
  readonly authMethod?: string
  readonly user?: { readonly login: string; readonly name?: string }
}

/** The `status` answer: the Gateway's core fields; features add sections of their own. */
export interface StatusResult {
  readonly ok: true
  readonly version: string
  readonly protocol: number
  readonly pid: number
  readonly startedAt: number
  readonly uptimeMs: number
  readonly url: string
  readonly bind: {
    readonly mode: string
    readonly effectiveMode: string
    readonly addresses: ReadonlyArray<string>
    readonly port: number
  }
  readonly auth: {
    readonly mode: string
    readonly secretSet: boolean
    readonly secretSource?: string
    readonly allowTailscale: boolean
  }
  readonly tls: {
    readonly enabled: boolean
    readonly fingerprint?: string
    readonly certPath?: string
    readonly source?: string
  }
  readonly controlUi: { readonly enabled: boolean; readonly basePath: string }
  readonly clients: number
  readonly nodes: number
  readonly tailscaleUsers: ReadonlyArray<string>
  readonly [section: string]: unknown
}

/** The methods whose shapes are public. */
export interface GatewayMethods {
  /** `probe: true` is accepted (OpenClaw's CLI sends it) and changes nothing here. */
  readonly health: { readonly params: { readonly probe?: boolean } | void; readonly result: HealthResult }
  readonly status: { readonly params: void; readonly result: StatusResult }
  readonly "system-presence": { readonly params: void; readonly result: ReadonlyArray<PresenceEntry> }
  /** Two-phase: an interim {status: "accepted", runId}, then the run's final answer. */
  readonly agent: { readonly params: Wire<typeof AgentParams>; readonly result: unknown }
  readonly "agent.wait": { readonly params: Wire<typeof AgentWaitParams>; readonly result: unknown }
  readonly "chat.send": { readonly params: Wire<typeof AgentParams>; readonly result: unknown }
  readonly "chat.history": { readonly params: Wire<typeof ChatHistoryParams> | void; readonly result: unknown }
  readonly "chat.abort": { readonly params: Wire<typeof ChatAbortParams> | void; readonly result: unknown }
  readonly send: { readonly params: Wire<typeof SendParams>; readonly result: unknown }
  readonly "node.invoke": { readonly params: Wire<typeof NodeInvokeParams>; readonly result: unknown }
  readonly "browser.request": { readonly params: Wire<typeof BrowserRequestParams>; readonly result: unknown }
}

export type MethodName = keyof GatewayMethods
/** The params of `M` (anything for a method not in GatewayMethods). */
export type ParamsOf<M extends string> = M extends MethodName ? GatewayMethods[M]["params"] : unknown
/** The result of `M` (`unknown` for a method not in GatewayMethods). */
export type ResultOf<M extends string> = M extends MethodName ? GatewayMethods[M]["result"] : unknown
