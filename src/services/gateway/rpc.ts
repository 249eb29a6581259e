/** What a Gateway method is: its required scope (or role), and a handler that is an Effect. */
import { Data, type Effect } from "effect"
import { type ErrorShape, ErrorCode, type Role } from "../../protocol/frames.js"

/** An error a method answers with; it goes over the wire as the response's `error`. */
export class RpcError extends Data.TaggedError("RpcError")<{ readonly shape: ErrorShape }> {
  static invalidRequest = (message: string, details?: unknown) =>
    new RpcError({ shape: { code: ErrorCode.invalidRequest, message, ...(details === undefined ? {} : { details }) } })
  static unavailable = (message: string, details?: unknown) =>
    new RpcError({
      shape: { code: ErrorCode.unavailable, message, retryable: true, ...(details === undefined ? {} : { details }) }
    })
}

export type OperatorScope =
  "operator.read" | "operator.write" | "operator.admin" | "operator.pairing" | "operator.approvals"

export interface CallerInfo {
  readonly connId: string
  readonly role: Role
  readonly scopes: ReadonlyArray<string>
  readonly clientId: string
  readonly clientMode: string
  /** The connection came in through Tailscale Funnel (the public internet). */
  readonly viaFunnel?: boolean
}

export interface MethodContext {
  readonly caller: CallerInfo
  readonly requestId: string
  /** Sends an interim response with the request's id (two-phase methods such as `agent`). */
  readonly accept: (payload: unknown) => void
}

/**
 * A method: an Effect handler, or for cheap synchronous answers (health, status) a plain
 * function, which skips starting a fiber on the hottest path; it may throw an RpcError.
 */
export type MethodDef = {
  /** An operator scope, or "node" for methods only node hosts may call. */
  readonly requires: OperatorScope | "node"
} & (
  | { readonly handler: (params: unknown, ctx: MethodContext) => Effect.Effect<unknown, RpcError> }
  | { readonly sync: (params: unknown, ctx: MethodContext) => unknown }
)
