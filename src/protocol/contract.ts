/**
 * Method contracts, declared once for the server and the client (in the spirit of @effect/rpc's
 * RpcGroup; the wire stays OpenClaw's protocol v4). A `Method` is a method's params Schema, result
 * Schema and required scope; a `MethodGroup` names a feature's methods. The Gateway decodes a
 * request's params with the params Schema before the handler runs and types the handler by both
 * Schemas (Gateway.registerGroup); the client takes its params (the Schema's encoded side: what a
 * client sends is what the server accepts) and result types from the same declaration.
 *
 * A result Schema is not run on the server (the handler's answer goes out as it is): it types both
 * sides, so it should be a plain one whose type is its JSON. A method without a params Schema gets
 * its params as they came, at no cost (health and status, the hottest path), typed `unknown`.
 */
import type { Schema } from "effect"

export type OperatorScope =
  "operator.read" | "operator.write" | "operator.admin" | "operator.pairing" | "operator.approvals"

/** What a method requires of its caller: an operator scope, or "node" for methods only node hosts may call. */
export type MethodScope = OperatorScope | "node"

/** A Schema a contract may hold: decoded without any service. */
export type AnySchema = Schema.Schema<any, any, never>

/** One method's contract. */
export interface Method<P extends AnySchema | undefined = AnySchema | undefined, R extends AnySchema = AnySchema> {
  readonly requires: MethodScope
  /** Decodes the request's params before the handler runs; none: the params as they came. */
  readonly params: P
  readonly result: R
}

/** Any method contract. */
export type AnyMethod = Method<AnySchema | undefined, AnySchema>
/** The params a handler gets: the params Schema's decoded type (`unknown` without one). */
export type MethodParams<M extends AnyMethod> = M["params"] extends AnySchema
  ? Schema.Schema.Type<M["params"]>
  : unknown
/** The params a client sends: the params Schema's encoded side (defaults make fields optional here). */
export type MethodWireParams<M extends AnyMethod> = M["params"] extends AnySchema
  ? Schema.Schema.Encoded<M["params"]>
  : unknown
/** What the handler answers and the client receives. */
export type MethodResult<M extends AnyMethod> = Schema.Schema.Type<M["result"]>

export const Method = {
  /** A method's contract: `Method.make({ requires: "operator.read", params: MyParams, result: MyResult })`. */
  make: <const P extends AnySchema | undefined = undefined, const R extends AnySchema = AnySchema>(contract: {
    readonly requires: MethodScope
    readonly params?: P
    readonly result: R
  }): Method<P, R> => ({ requires: contract.requires, params: contract.params as P, result: contract.result })
}

/** The contracts a group holds, by method name. */
export type MethodTable = { readonly [name: string]: AnyMethod }

/** A feature's methods: what its layer implements (exactly these) and what its typed client calls. */
export interface MethodGroup<Ms extends MethodTable = MethodTable> {
  readonly methods: Ms
}

export type AnyMethodGroup = MethodGroup<MethodTable>
/** The method names of a group. */
export type MethodNames<G extends AnyMethodGroup> = keyof G["methods"] & string

type Merged<Gs extends ReadonlyArray<AnyMethodGroup>> = Gs extends readonly [
  infer H extends AnyMethodGroup,
  ...infer T extends ReadonlyArray<AnyMethodGroup>
]
  ? H["methods"] & Merged<T>
  : unknown

/** An intersection of method tables as one table. */
type Flat<T> = { readonly [K in keyof T]: T[K] extends AnyMethod ? T[K] : never }

/** A name two merged groups both declare (a mistake: one of them would answer for the other). */
export class DuplicateMethodName extends Error {
  constructor(readonly method: string) {
    super(`method ${method} is declared by two method groups`)
  }
}

export const MethodGroup = {
  /** `MethodGroup.make({ "my.method": Method.make({...}), ... })`. */
  make: <const Ms extends MethodTable>(methods: Ms): MethodGroup<Ms> => ({ methods }),
  /** One group of several (the built-in groups, as the client types them); a name declared twice throws. */
  merge: <const Gs extends ReadonlyArray<AnyMethodGroup>>(...groups: Gs): MethodGroup<Flat<Merged<Gs>>> => {
    const methods: Record<string, AnyMethod> = {}
    for (const group of groups) {
      for (const [name, method] of Object.entries(group.methods)) {
        if (name in methods) throw new DuplicateMethodName(name)
        methods[name] = method
      }
    }
    return { methods: methods as never }
  }
}
