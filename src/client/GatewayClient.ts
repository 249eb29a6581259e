/**
 * GatewayClient: the Effect face of the protocol client. A connection is a scoped resource,
 * closed when the scope ends; failures are typed and carry the target for error messages.
 */
import { Data, Effect, type Scope } from "effect"
import type { EventFrame, HelloOk } from "../protocol/frames.js"
import { ClientFailure, type ClientFailureKind, type RequestOptions, RpcClient, type RpcClientOptions } from "./rpc-client.js"

export { ClientFailure, RpcClient, type RpcClientOptions }

export class GatewayClientError extends Data.TaggedError("GatewayClientError")<{
  readonly kind: ClientFailureKind
  readonly message: string
  /** details.code from the server, when it gave one (AUTH_TOKEN_MISMATCH, PAIRING_REQUIRED ...). */
  readonly code?: string
  /** The server's error code (INVALID_REQUEST, FORBIDDEN ...) for failed calls. */
  readonly serverCode?: string
}> {}

const toError = (e: unknown): GatewayClientError =>
  e instanceof ClientFailure
    ? new GatewayClientError({ kind: e.kind, message: e.message, code: e.code, serverCode: e.error?.code })
    : new GatewayClientError({ kind: "protocol", message: String(e) })

export interface GatewayConnection {
  readonly hello: HelloOk
  readonly request: (
    method: string,
    params?: unknown,
    options?: RequestOptions
  ) => Effect.Effect<unknown, GatewayClientError>
}

/** Opens an authenticated connection for the lifetime of the current scope. */
export const connect = (options: RpcClientOptions): Effect.Effect<GatewayConnection, GatewayClientError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => RpcClient.connect(options), catch: toError }),
    (client) => Effect.promise(() => client.close())
  ).pipe(
    Effect.map((client) => ({
      hello: client.hello,
      request: (method, params, opts) => Effect.tryPromise({ try: () => client.request(method, params, opts), catch: toError })
    }))
  )

export type { EventFrame }
