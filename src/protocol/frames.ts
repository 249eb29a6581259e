/**
 * OpenClaw Gateway protocol v4: frame shapes, limits, error codes and close codes.
 * Shared by the server and the client; kept free of heavy imports because the CLI loads it.
 */

import { findInvalidField, MAX_JSON_DEPTH, mayHoldInvalidField, nestingExceeds } from "./json-guard.js"

export const PROTOCOL_VERSION = 4
/** Protocol 3 is still accepted from probes and nodes (older node hosts). */
export const LEGACY_PROTOCOL_VERSION = 3

export const Limits = {
  preAuthMaxPayload: 64 * 1024,
  maxPayload: 25 * 1024 * 1024,
  maxBufferedBytes: 50 * 1024 * 1024,
  /** Requests one connection may have awaiting their answer; more are answered TOO_MANY_REQUESTS_IN_FLIGHT. */
  maxRequestsInFlight: 32,
  tickIntervalMs: 30_000,
  handshakeTimeoutMs: 10_000
} as const

export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolMismatch: 1002,
  policy: 1008,
  tooLarge: 1009,
  serviceRestart: 1012,
  tickTimeout: 4000
} as const

export const ErrorCode = {
  invalidRequest: "INVALID_REQUEST",
  notPaired: "NOT_PAIRED",
  forbidden: "FORBIDDEN",
  unavailable: "UNAVAILABLE",
  approvalNotFound: "APPROVAL_NOT_FOUND"
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export const ClientModes = ["webchat", "cli", "ui", "backend", "node", "probe", "test"] as const
export type ClientMode = (typeof ClientModes)[number]

export const Roles = ["operator", "node"] as const
export type Role = (typeof Roles)[number]

export const OperatorScopes = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.pairing",
  "operator.approvals"
] as const

export type AuthMethod = "none" | "token" | "password" | "tailscale" | "device-token" | "sign-in-code"

export interface ErrorShape {
  readonly code: string
  readonly message: string
  readonly details?: unknown
  readonly retryable?: boolean
  readonly retryAfterMs?: number
}

export interface RequestFrame {
  readonly type: "req"
  readonly id: string
  readonly method: string
  readonly params?: unknown
}

export interface ResponseFrame {
  readonly type: "res"
  readonly id: string
  readonly ok: boolean
  readonly payload?: unknown
  readonly error?: ErrorShape
}

export interface EventFrame {
  readonly type: "event"
  readonly event: string
  readonly payload?: unknown
  readonly seq?: number
}

export type Frame = RequestFrame | ResponseFrame | EventFrame

export interface ClientInfo {
  readonly id: string
  readonly version: string
  readonly platform: string
  readonly mode: ClientMode
  readonly displayName?: string
  readonly deviceFamily?: string
  readonly instanceId?: string
}

export interface ConnectParams {
  readonly minProtocol: number
  readonly maxProtocol: number
  readonly client: ClientInfo
  readonly role?: Role
  readonly scopes?: ReadonlyArray<string>
  readonly caps?: ReadonlyArray<string>
  readonly commands?: ReadonlyArray<string>
  readonly auth?: {
    readonly token?: string
    readonly password?: string
    readonly deviceToken?: string
    /** A one-time code from a Control UI sign-in link; needs `device` (the browser's identity). */
    readonly signInCode?: string
  }
  readonly device?: {
    readonly id: string
    readonly publicKey: string
    readonly signature: string
    readonly signedAt: number
    readonly nonce: string
  }
}

export interface HelloOk {
  readonly type: "hello-ok"
  readonly protocol: number
  readonly server: { readonly version: string; readonly connId: string }
  readonly features: { readonly methods: ReadonlyArray<string>; readonly events: ReadonlyArray<string> }
  readonly snapshot: unknown
  readonly auth: {
    readonly method: AuthMethod
    readonly role: Role
    readonly scopes: ReadonlyArray<string>
    readonly deviceToken?: string
  }
  readonly policy: { readonly maxPayload: number; readonly maxBufferedBytes: number; readonly tickIntervalMs: number }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const frameOf = (value: unknown): Frame | undefined => {
  if (!isRecord(value)) return undefined
  switch (value.type) {
    case "req":
      return typeof value.id === "string" && value.id.length > 0 && typeof value.method === "string"
        ? (value as unknown as RequestFrame)
        : undefined
    case "res":
      return typeof value.id === "string" && typeof value.ok === "boolean"
        ? (value as unknown as ResponseFrame)
        : undefined
    case "event":
      return typeof value.event === "string" ? (value as unknown as EventFrame) : undefined
    default:
      return undefined
  }
}

/**
 * Parses one text frame. Hand-written rather than a Schema: it runs for every message on the
 * hot path, and only the discriminating fields need checking here. Nesting is bounded first.
 */
export const parseFrame = (text: string): Frame | undefined => {
  if (nestingExceeds(text)) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  return frameOf(value)
}

/**
 * A request from a client as the Gateway decodes it, or why it is refused: with the request's id
 * when one could be read, and the request itself when only a field inside it is invalid.
 */
export type ClientRequest =
  | { readonly ok: true; readonly frame: RequestFrame }
  | { readonly ok: false; readonly problem: string; readonly id?: string; readonly request?: RequestFrame }

/**
 * parseFrame for input from clients, with the rules of json-guard.ts: bounded depth, and no
 * invalid strings or `__proto__` keys anywhere (the problem names the field, e.g. "params.to").
 */
export const decodeClientRequest = (text: string): ClientRequest => {
  if (nestingExceeds(text)) return { ok: false, problem: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, problem: "not valid JSON" }
  }
  const frame = frameOf(value)
  if (frame?.type !== "req") {
    const id = isRecord(value) && typeof value.id === "string" && value.id.length > 0 ? value.id : undefined
    return {
      ok: false,
      problem: 'expected a JSON request {type:"req", id, method, params}',
      ...(id === undefined ? {} : { id })
    }
  }
  if (mayHoldInvalidField(text)) {
    const bad = findInvalidField(frame)
    if (bad !== undefined) return { ok: false, problem: `${bad.path} ${bad.problem}`, id: frame.id, request: frame }
  }
  return { ok: true, frame }
}

export const errorShape = (
  code: ErrorCode | string,
  message: string,
  extra?: { details?: unknown; retryable?: boolean; retryAfterMs?: number }
): ErrorShape => ({ code, message, ...extra })

export const okResponse = (id: string, payload: unknown): string =>
  JSON.stringify({ type: "res", id, ok: true, payload })

export const errorResponse = (id: string, error: ErrorShape): string =>
  JSON.stringify({ type: "res", id, ok: false, error })

export const eventFrame = (event: string, payload?: unknown, seq?: number): string =>
  JSON.stringify(seq === undefined ? { type: "event", event, payload } : { type: "event", event, payload, seq })

export { isRecord }

/**
 * A TLS Gateway answers a plaintext http:// or ws:// request with HTTP 400 and this header, so the
 * client can say "use wss://" instead of "connection reset".
 */
export const TLS_REQUIRED_HEADER = "x-openclaw-error"
export const TLS_REQUIRED_VALUE = "tls-required"
