/**
 * Tailscale identity instead of a shared secret (gateway.auth.allowTailscale): the user that
 * Tailscale Serve vouches for in its headers, or on a tailnet bind the TCP peer itself, each
 * confirmed by `tailscale whois` (shared/security.md section 3), for operators only.
 */
import { Clock, Effect, Either } from "effect"
import { normaliseAddress, type ProxyHeaders } from "../../platform/http-peer.js"
import { isTailscaleAddress } from "../binder/Binder.js"
import { TailscaleError, type WhoisResult } from "../tailscale/TailscaleCli.js"
import { type AuthGrant, type AuthFailure, type AuthRequest, reject } from "./failure.js"

export type Whois = (address: string) => Effect.Effect<WhoisResult, TailscaleError>

/** How long whois answers are trusted (security.md section 3). */
export const WHOIS_CACHE_MS = { success: 60_000, failure: 5_000 }

export const noWhois: Whois = () =>
  Effect.fail(new TailscaleError({ kind: "binary-missing", message: "this Gateway has no Tailscale CLI to ask" }))

export type CachedWhois = (address: string) => Effect.Effect<Either.Either<WhoisResult, TailscaleError>>

/** Identity authenticates operator connections only: a node is told which secret it needs. */
const refuseNode = (request: AuthRequest, secretKind: "token" | "password") =>
  (request.role ?? "operator") === "operator"
    ? Effect.void
    : reject(
        secretKind === "token" ? "AUTH_TOKEN_MISSING" : "AUTH_PASSWORD_MISSING",
        `Tailscale identity authenticates operators only, never a node; the node needs the gateway ${secretKind}`
      )

/** Asks whois (cached) about `address`; a failure is AUTH_TAILSCALE_WHOIS_FAILED. */
const whoisOrReject = (whois: CachedWhois, address: string) =>
  Effect.flatMap(whois(address), (who) =>
    Either.isLeft(who)
      ? reject(
          "AUTH_TAILSCALE_WHOIS_FAILED",
          `could not confirm the Tailscale identity (tailscale whois ${address}: ${who.left.message})`
        )
      : Effect.succeed(who.right)
  )

const tailscaleGrant = (who: WhoisResult): AuthGrant => ({
  method: "tailscale",
  identity: { login: who.loginName, ...(who.displayName ? { name: who.displayName } : {}) }
})

/**
 * Tailscale identity from Serve's headers, checked exactly as security.md section 3 says.
 * `secretKind` names the credential a node (or anyone refused identity) needs instead.
 */
const tailscaleIdentity = (
  request: AuthRequest,
  proxy: ProxyHeaders,
  whois: CachedWhois,
  secretKind: "token" | "password"
): Effect.Effect<AuthGrant, AuthFailure> =>
  Effect.gen(function* () {
    if (proxy.funnel) {
      return yield* reject(
        "AUTH_TAILSCALE_IDENTITY_MISSING",
        `Tailscale Funnel requests never carry an identity; send the gateway ${secretKind}`
      )
    }
    if (proxy.login === undefined) {
      return yield* reject(
        "AUTH_TAILSCALE_IDENTITY_MISSING",
        `no Tailscale identity on this request (tagged devices get none); send the gateway ${secretKind}`
      )
    }
    yield* refuseNode(request, secretKind)
    if (
      !proxy.fromServe ||
      proxy.forwardedFor === undefined ||
      proxy.forwardedProto === undefined ||
      proxy.forwardedHost === undefined
    ) {
      return yield* reject(
        "AUTH_TAILSCALE_PROXY_MISSING",
        `Tailscale identity headers are only accepted from Tailscale Serve on this host (a loopback peer owned by root or tailscaled's user, with X-Forwarded-For, -Proto and -Host); send the gateway ${secretKind}`
      )
    }
    const address = normaliseAddress(proxy.forwardedFor.split(",")[0]!.trim())
    const who = yield* whoisOrReject(whois, address)
    if (who.tagged || who.loginName.toLowerCase() !== proxy.login.toLowerCase()) {
      return yield* reject(
        "AUTH_TAILSCALE_IDENTITY_MISMATCH",
        `the Tailscale identity header does not match tailscale whois for ${address}`
      )
    }
    return tailscaleGrant(who)
  })

/**
 * Tailnet bind (gateway.bind "tailnet"): the TCP peer is a tailnet address that no header can
 * forge, so `tailscale whois <peer>` itself says who connects. Operators only; tagged devices
 * have no user.
 */
const tailnetPeerIdentity = (
  request: AuthRequest,
  whois: CachedWhois,
  secretKind: "token" | "password"
): Effect.Effect<AuthGrant, AuthFailure> =>
  Effect.gen(function* () {
    yield* refuseNode(request, secretKind)
    const who = yield* whoisOrReject(whois, request.remoteAddress)
    if (who.tagged || who.loginName === "") {
      return yield* reject(
        "AUTH_TAILSCALE_IDENTITY_MISSING",
        `${request.remoteAddress} is a tagged Tailscale device with no user identity; send the gateway ${secretKind}`
      )
    }
    return tailscaleGrant(who)
  })

/** whois answers kept for WHOIS_CACHE_MS (on the Clock), at most about 1000 addresses. */
export const cachingWhois = (whois: Whois): CachedWhois => {
  const cache = new Map<
    string,
    { readonly until: number; readonly result: Either.Either<WhoisResult, TailscaleError> }
  >()
  return (address) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const hit = cache.get(address)
      if (hit !== undefined && hit.until > now) return hit.result
      const result = yield* Effect.either(whois(address))
      if (cache.size > 1000) cache.clear()
      cache.set(address, {
        until: now + (Either.isRight(result) ? WHOIS_CACHE_MS.success : WHOIS_CACHE_MS.failure),
        result
      })
      return result
    })
}

/**
 * The identity path that applies to `request`, or undefined when it must offer a secret: Serve's
 * headers (allowTailscale), or the tailnet peer (allowTailscale and a tailnet bind: `peerWhois`).
 * A token, password or device token, when offered, is checked as always and never replaced.
 */
export const identityPath = (
  request: AuthRequest,
  kind: "token" | "password",
  options: { readonly allowTailscale: boolean; readonly peerWhois: boolean; readonly whois: CachedWhois }
): Effect.Effect<AuthGrant, AuthFailure> | undefined => {
  const { credentials, deviceToken, remoteAddress, proxy } = request
  const offersSecret =
    [credentials?.token, credentials?.password].some((s) => typeof s === "string" && s.length > 0) ||
    deviceToken !== undefined
  if (!options.allowTailscale || offersSecret) return undefined
  const viaServe =
    proxy !== undefined &&
    (proxy.login !== undefined ||
      proxy.funnel ||
      (proxy.forwardedFor !== undefined && proxy.forwardedProto !== undefined && proxy.forwardedHost !== undefined))
  if (viaServe) return tailscaleIdentity(request, proxy, options.whois, kind)
  const anyProxyHeader =
    proxy !== undefined &&
    (proxy.login !== undefined ||
      proxy.funnel ||
      proxy.forwardedFor !== undefined ||
      proxy.forwardedProto !== undefined ||
      proxy.forwardedHost !== undefined)
  return options.peerWhois && !anyProxyHeader && isTailscaleAddress(remoteAddress)
    ? tailnetPeerIdentity(request, options.whois, kind)
    : undefined
}
