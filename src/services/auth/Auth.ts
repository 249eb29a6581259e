/**
 * Auth: checks the credentials of a connect request against the configured shared secret, or
 * (gateway.auth.allowTailscale) the Tailscale identity that Serve vouches for, confirmed by
 * `tailscale whois` (shared/security.md section 3).
 * Secrets are compared in constant time (as SHA-256 digests, so lengths do not leak either).
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { Clock, Context, Data, Effect, Either, Exit, Layer, Option, Redacted } from "effect"
import { normaliseAddress, type ProxyHeaders } from "../gateway/http.js"
import { askerKey, AuthRateLimiter, localDelayCapMs, VIA_PROXY } from "./rate-limit.js"
import type { AuthMethod, ClientMode, Role } from "../../protocol/frames.js"
import { isTailscaleAddress } from "../binder/Binder.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { TailscaleCli, TailscaleError, type WhoisResult } from "../tailscale/TailscaleCli.js"

export type AuthFailureCode =
  | "AUTH_TOKEN_MISSING"
  | "AUTH_TOKEN_MISMATCH"
  | "AUTH_PASSWORD_MISSING"
  | "AUTH_PASSWORD_MISMATCH"
  | "AUTH_RATE_LIMITED"
  | "AUTH_DEVICE_TOKEN_MISMATCH"
  | "AUTH_TAILSCALE_IDENTITY_MISSING"
  | "AUTH_TAILSCALE_PROXY_MISSING"
  | "AUTH_TAILSCALE_WHOIS_FAILED"
  | "AUTH_TAILSCALE_IDENTITY_MISMATCH"

/** A rejected connect; `message` starts with "unauthorized:" and carries a hint for that kind of client. */
export class AuthFailure extends Data.TaggedError("AuthFailure")<{
  readonly code: AuthFailureCode
  readonly message: string
  readonly retryAfterMs?: number
  /** This failure locked its address out for so long (the Gateway logs a warning once per lock-out). */
  readonly lockedOutMs?: number
}> {}

export interface AuthRequest {
  readonly credentials: { readonly token?: string; readonly password?: string } | undefined
  readonly clientMode: ClientMode
  /** Normalised peer address (::ffff:1.2.3.4 is 1.2.3.4): the rate limiter's key. */
  readonly remoteAddress: string
  /** Loopback peer, no proxy headers and no browser Origin: slowed down, never locked out. */
  readonly local: boolean
  /**
   * A device token the client sent, already checked against the paired device (Pairing): a valid
   * one is enough; an invalid one falls back to the shared secret and counts as a failed attempt
   * when there is none.
   */
  readonly deviceToken?: "valid" | "invalid"
  /** Requested role (default operator): header identity never authenticates a node. */
  readonly role?: Role
  /** What the upgrade request said about a proxy in front (Tailscale Serve). */
  readonly proxy?: ProxyHeaders
}

export interface AuthGrant {
  readonly method: AuthMethod
  /** For method "tailscale": who, as confirmed by whois. */
  readonly identity?: { readonly login: string; readonly name?: string }
}

export interface AuthService {
  readonly mode: "none" | "token" | "password"
  readonly authenticate: (request: AuthRequest) => Effect.Effect<AuthGrant, AuthFailure>
  /**
   * The same decision made at once when it needs no waiting and no `tailscale whois` (most
   * connects); undefined means "run authenticate". Lets the Gateway skip a fiber per connect.
   */
  readonly decideNow?: (request: AuthRequest) => Exit.Exit<AuthGrant, AuthFailure> | undefined
  /** Live rotation (secret-reload.ts): from now on only `secret` is the shared secret. */
  readonly replaceSecret?: (secret: string) => void
}

export type Whois = (address: string) => Effect.Effect<WhoisResult, TailscaleError>

/** How long whois answers are trusted (security.md section 3). */
export const WHOIS_CACHE_MS = { success: 60_000, failure: 5_000 }

const noWhois: Whois = () =>
  Effect.fail(new TailscaleError({ kind: "binary-missing", message: "this Gateway has no Tailscale CLI to ask" }))

type CachedWhois = (address: string) => Effect.Effect<Either.Either<WhoisResult, TailscaleError>>

const reject = (code: AuthFailureCode, message: string) =>
  Effect.fail(new AuthFailure({ code, message: `unauthorized: ${message}` }))

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
      !proxy.peerLoopback ||
      proxy.forwardedFor === undefined ||
      proxy.forwardedProto === undefined ||
      proxy.forwardedHost === undefined
    ) {
      return yield* reject(
        "AUTH_TAILSCALE_PROXY_MISSING",
        `Tailscale identity headers are only accepted from Tailscale Serve on this host (loopback peer with X-Forwarded-For, -Proto and -Host); send the gateway ${secretKind}`
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

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest()

export const constantTimeEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b))

const isBrowser = (mode: ClientMode) => mode === "ui" || mode === "webchat"

const hint = (kind: "token" | "password", problem: "missing" | "mismatch", mode: ClientMode): string => {
  if (mode === "node") return `pass the Gateway's gateway.auth.${kind} to \`openclaw node run --${kind}\``
  if (isBrowser(mode)) {
    // What a browser user can actually do: the sign-in form on this page, or (token) the link `openclaw dashboard` prints.
    return kind === "token"
      ? "open the sign-in link that `openclaw dashboard` prints on the Gateway host, or paste its gateway.auth.token into the token field"
      : "type the Gateway's password (gateway.auth.password on the Gateway host) into the password field"
  }
  return problem === "missing"
    ? `pass --${kind}, set OPENCLAW_GATEWAY_${kind.toUpperCase()}, or set gateway.remote.${kind} to the Gateway's gateway.auth.${kind}`
    : `set gateway.remote.${kind} to match gateway.auth.${kind}`
}

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

export interface AuthOptions {
  /** Identify operators by `tailscale whois` of the TCP peer (tailnet bind with allowTailscale). */
  readonly peerWhois?: boolean
  /**
   * Tailscale Serve/Funnel fronts this Gateway (tailscale mode serve or funnel, or allowTailscale):
   * the rate limiter keys a request from it on the forwarded client address.
   */
  readonly trustServeProxy?: boolean
  /** The Gateway's handshake timeout: the local escalating delay stays well below it. */
  readonly handshakeTimeoutMs?: number
}

export class Auth extends Context.Tag("openclaw/Auth")<Auth, AuthService>() {
  static make = (
    settings: GatewayConfig["Type"]["auth"],
    whois: Whois = noWhois,
    options: AuthOptions = {}
  ): AuthService => {
    const whoisCache = new Map<
      string,
      { readonly until: number; readonly result: Either.Either<WhoisResult, TailscaleError> }
    >()
    const cachedWhois = (address: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const hit = whoisCache.get(address)
        if (hit !== undefined && hit.until > now) return hit.result
        const result = yield* Effect.either(whois(address))
        if (whoisCache.size > 1000) whoisCache.clear()
        whoisCache.set(address, {
          until: now + (Either.isRight(result) ? WHOIS_CACHE_MS.success : WHOIS_CACHE_MS.failure),
          result
        })
        return result
      })
    const secret =
      settings.mode === "token" ? settings.token : settings.mode === "password" ? settings.password : undefined
    let secretDigest = secret === undefined ? undefined : digest(Redacted.value(secret))
    const limiter = new AuthRateLimiter(settings.rateLimit, localDelayCapMs(options.handshakeTimeoutMs ?? 10_000))
    /** Who is asking (rate-limit.ts askerKey): a success clears only this client's own record. */
    const keyOf = (request: AuthRequest) => askerKey(request, options.trustServeProxy ?? settings.allowTailscale)

    const check = (
      kind: "token" | "password",
      credentials: AuthRequest["credentials"],
      clientMode: ClientMode
    ): AuthFailure | undefined => {
      const upper = kind.toUpperCase() as "TOKEN" | "PASSWORD"
      // The shared secret is accepted in either field; the mode only says which one is configured.
      const offered = [credentials?.token, credentials?.password].filter(
        (s): s is string => typeof s === "string" && s.length > 0
      )
      if (offered.length === 0) {
        return new AuthFailure({
          code: `AUTH_${upper}_MISSING`,
          message: `unauthorized: gateway ${kind} missing (${hint(kind, "missing", clientMode)})`
        })
      }
      // Compare every offered value so timing does not reveal which field matched.
      let ok = false
      for (const candidate of offered) ok = timingSafeEqual(digest(candidate), secretDigest!) || ok
      return ok
        ? undefined
        : new AuthFailure({
            code: `AUTH_${upper}_MISMATCH`,
            message: `unauthorized: gateway ${kind} mismatch (${hint(kind, "mismatch", clientMode)})`
          })
    }

    /** The identity paths (Tailscale Serve headers, tailnet peer), when one applies to `request`. */
    const identityPath = (
      request: AuthRequest,
      kind: "token" | "password"
    ): Effect.Effect<AuthGrant, AuthFailure> | undefined => {
      const { credentials, deviceToken, remoteAddress, proxy } = request
      // A token or password, when offered, is checked as always; identity is for those without one.
      // A device token (nodes) counts as an offered credential too: it is checked, never replaced by identity.
      const offersSecret =
        [credentials?.token, credentials?.password].some((s) => typeof s === "string" && s.length > 0) ||
        deviceToken !== undefined
      const viaServe =
        proxy !== undefined &&
        (proxy.login !== undefined ||
          proxy.funnel ||
          (proxy.forwardedFor !== undefined && proxy.forwardedProto !== undefined && proxy.forwardedHost !== undefined))
      if (settings.allowTailscale && !offersSecret && viaServe)
        return tailscaleIdentity(request, proxy, cachedWhois, kind)
      const anyProxyHeader =
        proxy !== undefined &&
        (proxy.login !== undefined ||
          proxy.funnel ||
          proxy.forwardedFor !== undefined ||
          proxy.forwardedProto !== undefined ||
          proxy.forwardedHost !== undefined)
      if (
        settings.allowTailscale &&
        options.peerWhois &&
        !offersSecret &&
        !anyProxyHeader &&
        isTailscaleAddress(remoteAddress)
      ) {
        return tailnetPeerIdentity(request, cachedWhois, kind)
      }
      return undefined
    }

    /** The shared-secret check once the rate limiter let it proceed, recording the outcome. */
    const checkSecret = (
      kind: "token" | "password",
      request: AuthRequest,
      now: number
    ): Exit.Exit<AuthGrant, AuthFailure> => {
      const { credentials, deviceToken } = request
      if (deviceToken === "valid") {
        limiter.recordSuccess(keyOf(request))
        return Exit.succeed({ method: "device-token" })
      }
      const sharedOffered = [credentials?.token, credentials?.password].some(
        (s) => typeof s === "string" && s.length > 0
      )
      if (deviceToken === "invalid" && !sharedOffered) {
        const lockedOut = limiter.recordFailure(keyOf(request), request.local, now)
        return Exit.fail(
          new AuthFailure({
            ...(lockedOut ? { lockedOutMs: settings.rateLimit.lockoutMs } : {}),
            code: "AUTH_DEVICE_TOKEN_MISMATCH",
            message: `unauthorized: device token mismatch (this device was removed or re-paired; connect once with the Gateway's ${kind} (--${kind}) to pair again)`
          })
        )
      }
      const failure = check(kind, credentials, request.clientMode)
      if (failure === undefined) {
        limiter.recordSuccess(keyOf(request))
        return Exit.succeed({ method: kind })
      }
      // A missing credential is a client that has none, not a guess; only wrong secrets count.
      if (failure.code.endsWith("_MISMATCH") && limiter.recordFailure(keyOf(request), request.local, now)) {
        return Exit.fail(
          new AuthFailure({ code: failure.code, message: failure.message, lockedOutMs: settings.rateLimit.lockoutMs })
        )
      }
      return Exit.fail(failure)
    }

    /** The socket address, or the forwarded one when the limiter keys on it. */
    const shownAsker = (request: AuthRequest) => {
      const key = keyOf(request)
      return key.startsWith(VIA_PROXY)
        ? `${key.slice(VIA_PROXY.length)} (through Tailscale Serve)`
        : request.remoteAddress
    }
    const locked = (request: AuthRequest, retryAfterMs: number) =>
      new AuthFailure({
        code: "AUTH_RATE_LIMITED",
        message: `unauthorized: too many failed attempts from ${shownAsker(request)}; try again in ${Math.ceil(retryAfterMs / 1000)} s`,
        retryAfterMs
      })

    const decideNow = (request: AuthRequest, now: number): Exit.Exit<AuthGrant, AuthFailure> | undefined => {
      if (settings.mode === "none") return Exit.succeed({ method: "none" })
      if (identityPath(request, settings.mode) !== undefined) return undefined
      const verdict = limiter.check(keyOf(request), request.local, now)
      if (verdict.kind === "locked") return Exit.fail(locked(request, verdict.retryAfterMs))
      return verdict.delayMs > 0 ? undefined : checkSecret(settings.mode, request, now)
    }

    return {
      mode: settings.mode,
      replaceSecret: (next) => void (secretDigest = digest(next)),
      decideNow: (request) => decideNow(request, Date.now()),
      authenticate: (request) =>
        Effect.gen(function* () {
          const decided = decideNow(request, yield* Clock.currentTimeMillis)
          if (decided !== undefined) return yield* decided
          const kind = settings.mode as "token" | "password"
          const identity = identityPath(request, kind)
          if (identity !== undefined) return yield* identity
          // Only a local peer past the limit gets here: it waits, then its secret is checked.
          const verdict = limiter.check(keyOf(request), request.local, yield* Clock.currentTimeMillis)
          if (verdict.kind === "locked") return yield* locked(request, verdict.retryAfterMs)
          yield* Effect.sleep(verdict.delayMs)
          return yield* checkSecret(kind, request, yield* Clock.currentTimeMillis)
        })
    }
  }

  /** Uses TailscaleCli's whois when the context has one (gatewayServices provides it). */
  static layer = Layer.effect(
    Auth,
    Effect.gen(function* () {
      const settings = yield* GatewayConfig
      const cli = yield* Effect.serviceOption(TailscaleCli)
      return Auth.make(settings.auth, Option.isSome(cli) ? cli.value.whois : noWhois, {
        peerWhois: settings.bind === "tailnet",
        trustServeProxy: settings.tailscale.mode !== "off" || settings.auth.allowTailscale,
        handshakeTimeoutMs: settings.handshakeTimeoutMs
      })
    })
  )

  /** Accepts exactly the given token; for tests of code that sits behind Auth. */
  static layerTest = (token = "test-token") =>
    Layer.succeed(
      Auth,
      Auth.make({
        mode: "token",
        token: Redacted.make(token),
        password: undefined,
        allowTailscale: false,
        rateLimit: { maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000 },
        secretSource: "test"
      })
    )
}
