/**
 * GatewayClient: the Effect face of the protocol client. A connection is a scoped resource,
 * closed when the scope ends; failures are typed and carry the target for error messages.
 */
import { Data, Effect, type Scope } from "effect"
import type { EventFrame, HelloOk } from "../protocol/frames.js"
import type { ParamsOf, ResultOf } from "../protocol/methods.js"
import type { AnyMethodGroup, MethodNames, MethodResult, MethodWireParams } from "../protocol/contract.js"
import type { ConfigError, Env } from "../config/load.js"
import { SshTunnel, type SshTunnelError, type Tunnel } from "../services/ssh/SshTunnel.js"
import {
  ClientFailure,
  type ClientFailureKind,
  type RequestOptions,
  RpcClient,
  type RpcClientOptions
} from "./rpc-client.js"
import { checkPlaintext, type Target } from "./target.js"

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
  /** Calls a method; for the methods in GatewayMethods the params and result are typed. */
  readonly request: <M extends string>(
    method: M,
    params?: ParamsOf<M>,
    options?: RequestOptions
  ) => Effect.Effect<ResultOf<M>, GatewayClientError>
}

/** Opens an authenticated connection for the lifetime of the current scope. */
export const connect = (options: RpcClientOptions): Effect.Effect<GatewayConnection, GatewayClientError, Scope.Scope> =>
  Effect.acquireRelease(Effect.tryPromise({ try: () => RpcClient.connect(options), catch: toError }), (client) =>
    Effect.promise(() => client.close())
  ).pipe(
    Effect.map((client) => ({
      hello: client.hello,
      request: <M extends string>(method: M, params?: ParamsOf<M>, opts?: RequestOptions) =>
        Effect.tryPromise({ try: () => client.request(method, params, opts) as Promise<ResultOf<M>>, catch: toError })
    }))
  )

/** Params may be left out when the method needs none (every field optional, or no params Schema). */
type ParamsArgs<P> =
  Record<never, never> extends P ? [params?: P, options?: RequestOptions] : [params: P, options?: RequestOptions]

/** A connection's calls typed by a method group: params and result from the group's contracts. */
export interface GroupClient<G extends AnyMethodGroup> {
  readonly request: <K extends MethodNames<G>>(
    method: K,
    ...args: ParamsArgs<MethodWireParams<G["methods"][K]>>
  ) => Effect.Effect<MethodResult<G["methods"][K]>, GatewayClientError>
}

/**
 * The connection's calls typed by `group` (an embedder's own MethodGroup, or a built-in one):
 * `GatewayClient.typed(MyGroup, conn).request("my.method", { ... })`. Only types: the call is the connection's.
 */
export const typed = <G extends AnyMethodGroup>(_group: G, connection: GatewayConnection): GroupClient<G> => {
  const request = connection.request as (
    method: string,
    params?: unknown,
    options?: RequestOptions
  ) => Effect.Effect<never, GatewayClientError>
  return { request: (method, ...[params, options]) => request(method, params, options) }
}

export type { EventFrame }

export interface TargetConnection extends GatewayConnection {
  /** The URL actually dialled (the tunnel's local end for transport "ssh"). */
  readonly url: string
  /** The SSH tunnel opened for this connection, closed with the scope. */
  readonly tunnel: Tunnel | undefined
}

/**
 * Connects to a resolved Target for the lifetime of the scope: opens its SSH tunnel first when it
 * has one (the plaintext guard then judges the tunnel's loopback end), applies its TLS pin.
 */
export const connectTarget = (
  target: Target,
  options: Omit<RpcClientOptions, "url" | "token" | "password" | "tlsFingerprint">,
  env: Env = process.env
): Effect.Effect<TargetConnection, GatewayClientError | SshTunnelError | ConfigError, Scope.Scope | SshTunnel> =>
  Effect.gen(function* () {
    let url = target.url
    let tunnel: Tunnel | undefined
    if (target.ssh !== undefined) {
      const ssh = yield* SshTunnel
      tunnel = yield* ssh.open(target.ssh, {
        connectTimeoutS: Math.max(1, Math.ceil((options.timeoutMs ?? 10_000) / 1000))
      })
      const local = new URL(target.url)
      local.port = String(tunnel.localPort)
      url = local.toString().replace(/\/$/, "")
    }
    yield* Effect.try({ try: () => checkPlaintext(url, env), catch: (e) => e as ConfigError })
    const conn = yield* connect({
      ...options,
      url,
      token: target.token,
      password: target.password,
      tlsFingerprint: target.tlsFingerprint,
      ...(target.running === undefined ? {} : { recordedGatewayPid: target.running.pid }),
      // The user named this URL and its credential on the command line.
      ...(target.source === "--url" ? { trustRootListener: true } : {})
    }).pipe(
      Effect.mapError((e) =>
        tunnel !== undefined && (e.kind === "unreachable" || e.kind === "closed")
          ? new GatewayClientError({
              ...e,
              kind: "unreachable",
              message: `the SSH tunnel to ${target.ssh!.target} is up, but nothing answered on 127.0.0.1:${target.ssh!.remotePort} there (${e.message})`
            })
          : e
      )
    )
    return { ...conn, url, tunnel }
  })
