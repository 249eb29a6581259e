/**
 * What a Gateway method is: its required scope (or role), its params' Schema, and a handler that is
 * an Effect. A feature implements its contract group (src/protocol/contracts) with `implementGroup`
 * (typed by the contracts: params decoded in, result out, exactly the group's names) and registers
 * it with Gateway.registerGroup; `defineMethod` types a single method (by a contract, or by its params Schema).
 */
import { Data, Effect, Either, type Schema } from "effect"
import { type ErrorShape, ErrorCode, type Role } from "../../protocol/frames.js"
import type {
  AnyMethod,
  AnyMethodGroup,
  MethodNames,
  MethodParams,
  MethodResult,
  MethodScope,
  OperatorScope
} from "../../protocol/contract.js"
import { paramsDecoder } from "./params.js"

export type { MethodScope, OperatorScope }

/** An error a method answers with; it goes over the wire as the response's `error`. */
export class RpcError extends Data.TaggedError("RpcError")<{ readonly shape: ErrorShape }> {
  static invalidRequest = (message: string, details?: unknown) =>
    new RpcError({ shape: { code: ErrorCode.invalidRequest, message, ...(details === undefined ? {} : { details }) } })
  static unavailable = (message: string, details?: unknown) =>
    new RpcError({
      shape: { code: ErrorCode.unavailable, message, retryable: true, ...(details === undefined ? {} : { details }) }
    })
}

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
 * With a `params` Schema the handler gets the decoded params; a request whose params do not
 * decode is answered INVALID_REQUEST naming the field (params.ts), and the handler never runs.
 * Without one (health, status) the params go to the handler as they came, at no cost.
 */
export type MethodDef<P = unknown> = {
  /** An operator scope, or "node" for methods only node hosts may call. */
  readonly requires: MethodScope
  /** Any Schema in an untyped def (P unknown), as a registry holds them; defineMethod types the handler by it. */
  readonly params?: Schema.Schema<unknown extends P ? any : P, any, never>
} & (
  | { readonly handler: (params: P, ctx: MethodContext) => Effect.Effect<unknown, RpcError> }
  | { readonly sync: (params: P, ctx: MethodContext) => unknown }
)

/** A name registered twice (a built-in's, or another group's): the layer registering it fails. */
export class MethodAlreadyRegistered extends Data.TaggedError("MethodAlreadyRegistered")<{ readonly method: string }> {
  override get message() {
    return `method ${this.method} is already registered (by the Gateway or another method group); each name has one handler`
  }
}

/** A contract's implementation: an Effect handler, or `{ sync }` for a cheap synchronous answer (may throw an RpcError). */
export type MethodHandler<M extends AnyMethod> =
  | ((params: MethodParams<M>, ctx: MethodContext) => Effect.Effect<MethodResult<M>, RpcError>)
  | { readonly sync: (params: MethodParams<M>, ctx: MethodContext) => MethodResult<M> }

/** One handler per method of the group: a missing name is a type error, and so is an extra one in a literal. */
export type GroupHandlers<G extends AnyMethodGroup> = {
  readonly [K in MethodNames<G>]: MethodHandler<G["methods"][K]>
}

/** A contract with its handler, as the registry takes it. */
const implement = (contract: AnyMethod, handler: MethodHandler<AnyMethod>): MethodDef => {
  const base =
    contract.params === undefined
      ? { requires: contract.requires }
      : { requires: contract.requires, params: contract.params }
  return typeof handler === "function" ? { ...base, handler } : { ...base, sync: handler.sync }
}

/**
 * One method, typed: by a contract (`defineMethod(Group.methods["my.method"], handler)`), or by its
 * own params Schema (`defineMethod({ requires, params, handler | sync })`). Register it with
 * Gateway.registerMethod; a group's methods go together through registerGroup.
 */
export function defineMethod<M extends AnyMethod>(contract: M, handler: NoInfer<MethodHandler<M>>): MethodDef
export function defineMethod<P>(def: MethodDef<P> & { readonly params: Schema.Schema<P, any, never> }): MethodDef
export function defineMethod(def: AnyMethod | MethodDef, handler?: MethodHandler<AnyMethod>): MethodDef {
  return handler === undefined ? (def as MethodDef) : implement(def as AnyMethod, handler)
}

/**
 * The group's methods as the registry takes them: each contract's scope and params Schema with its
 * handler. Typed by the contracts: the handler gets the decoded params and answers the result type.
 */
export const implementGroup = <G extends AnyMethodGroup>(
  group: G,
  handlers: NoInfer<GroupHandlers<G>>
): Record<MethodNames<G>, MethodDef> => {
  const defs: Record<string, MethodDef> = {}
  for (const [name, contract] of Object.entries(group.methods)) {
    const handler = (handlers as Record<string, MethodHandler<AnyMethod>>)[name]
    // The types forbid it; a group built at runtime (an `as`) still gets told which name lacks a handler.
    if (handler === undefined) throw new Error(`method group: no handler for ${name}`)
    defs[name] = implement(contract, handler)
  }
  return defs as Record<MethodNames<G>, MethodDef>
}

/**
 * The method as the registry keeps it: with a params Schema, its decoder is compiled once here and
 * runs before the handler (the dispatcher then calls every method alike); without one, the def itself.
 */
export const compileMethod = (name: string, def: MethodDef): MethodDef => {
  if (def.params === undefined) return def
  const decode = paramsDecoder(name, def.params)
  if ("sync" in def) {
    const sync = def.sync
    return {
      requires: def.requires,
      sync: (params, ctx) => {
        const decoded = decode(params)
        if (Either.isLeft(decoded)) throw new RpcError({ shape: decoded.left })
        return sync(decoded.right, ctx)
      }
    }
  }
  const handler = def.handler
  return {
    requires: def.requires,
    handler: (params, ctx) => {
      const decoded = decode(params)
      return Either.isLeft(decoded) ? Effect.fail(new RpcError({ shape: decoded.left })) : handler(decoded.right, ctx)
    }
  }
}
