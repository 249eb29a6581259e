/**
 * The node host's connection boundary: one established protocol connection as a scoped resource
 * (closed when its scope closes). Production uses RpcClient over `ws`; tests pass a fake.
 */
import { Deferred, Effect, Exit, type Scope } from "effect"
import { ClientFailure, RpcClient, type RpcClientOptions } from "../../client/rpc-client.js"
import type { HelloOk } from "../../protocol/frames.js"

export interface NodeConnection {
  readonly hello: HelloOk
  /** Completes once the connection has closed, with the close code and reason. */
  readonly closed: Effect.Effect<{ readonly code: number; readonly reason: string }>
  /** Calls `f` on every frame received (the silence watchdog listens here). */
  readonly onFrame: (f: () => void) => void
  /** Drops the connection at once, without a close handshake (the link is dead). */
  readonly terminate: () => void
  readonly request: RpcClient["request"]
}

export type NodeConnector = (
  options: Omit<RpcClientOptions, "onClose">
) => Effect.Effect<NodeConnection, ClientFailure, Scope.Scope>

export const rpcConnector: NodeConnector = (options) =>
  Effect.gen(function* () {
    const closed = yield* Deferred.make<{ readonly code: number; readonly reason: string }>()
    const connect = Effect.tryPromise({
      try: (signal) =>
        RpcClient.connect({
          ...options,
          onClose: (code, reason) => Deferred.unsafeDone(closed, Exit.succeed({ code, reason }))
        }).then((client) => {
          // Interrupted while the handshake was in flight: nobody will close it otherwise.
          if (signal.aborted) void client.close()
          return client
        }),
      catch: (e) => e
    }).pipe(Effect.catchAll((e) => (e instanceof ClientFailure ? Effect.fail(e) : Effect.die(e))))
    const client = yield* Effect.uninterruptibleMask((restore) =>
      Effect.tap(restore(connect), (client) => Effect.addFinalizer(() => Effect.promise(() => client.close())))
    )
    return {
      hello: client.hello,
      closed: Deferred.await(closed),
      onFrame: (f) => void client.ws.on("message", f),
      terminate: () => client.ws.terminate(),
      request: (method, params, opts) => client.request(method, params, opts)
    } satisfies NodeConnection
  })
