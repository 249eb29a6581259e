/**
 * Typed RPC for the client: method name -> params and result, derived from the built-in method
 * groups (contracts/), the same declarations the server implements. A method not listed is still
 * callable (its params and result are `unknown`); an embedder's own group types its calls through
 * GatewayClient.typed(Group, connection).
 */
import type { AnyMethodGroup, MethodNames, MethodResult, MethodWireParams } from "./contract.js"
import type { BuiltinGroup } from "./contracts/index.js"

export type { HealthResult, PresenceEntry, StatusResult } from "./contracts/core.js"

/** A group's methods as the client sees them: what it sends, what it gets. */
export type ClientMethods<G extends AnyMethodGroup> = {
  readonly [K in MethodNames<G>]: {
    readonly params: MethodWireParams<G["methods"][K]>
    readonly result: MethodResult<G["methods"][K]>
  }
}

/** The methods this Gateway serves, with their shapes. */
export type GatewayMethods = ClientMethods<typeof BuiltinGroup>

export type MethodName = keyof GatewayMethods
/** The params of `M` (anything for a method not in GatewayMethods). */
export type ParamsOf<M extends string> = M extends MethodName ? GatewayMethods[M]["params"] : unknown
/** The result of `M` (`unknown` for a method not in GatewayMethods). */
export type ResultOf<M extends string> = M extends MethodName ? GatewayMethods[M]["result"] : unknown
