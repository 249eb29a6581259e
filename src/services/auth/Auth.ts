/**
 * Auth: checks the credentials of a connect request against the configured shared secret, or
 * (gateway.auth.allowTailscale) the Tailscale identity that Serve vouches for, confirmed by
 * `tailscale whois` (shared/security.md section 3).
 * Secrets are compared in constant time (as SHA-256 digests, so lengths do not leak either).
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { Clock, Context, Effect, Exit, Layer, Option, Redacted } from "effect"
import { askerKey, AuthRateLimiter, localDelayCapMs, VIA_PROXY } from "./rate-limit.js"
import type { ClientMode } from "../../protocol/frames.js"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { TailscaleCli } from "../tailscale/TailscaleCli.js"
import { AuthFailure, type AuthGrant, type AuthRequest } from "./failure.js"
import { cachingWhois, identityPath, noWhois, type Whois } from "./tailscale-identity.js"
import { type IssuedCode, SIGN_IN_CODE_TTL_MS, SignInCodes } from "./sign-in-codes.js"
import type { Env } from "../../config/load.js"

export { AuthFailure, type AuthFailureCode, type AuthGrant, type AuthRequest } from "./failure.js"
export { WHOIS_CACHE_MS, type Whois } from "./tailscale-identity.js"

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
  /**
   * A one-time sign-in code for a Control UI link (sign-in-codes.ts); a browser's signed connect
   * with `auth.signInCode` then counts as a shared-secret sign-in. Undefined in mode "none".
   */
  readonly mintSignInCode?: () => IssuedCode
}

export const signInCodeRefusal =
  "unauthorized: this sign-in link was already used or expired: run `openclaw dashboard` again on the Gateway's machine, or sign in with the Gateway's token"

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
  /** The clock of `decideNow`, which runs outside any fiber (the layer passes the Effect's Clock). */
  readonly clock?: Clock.Clock
  /** How long a sign-in code works (default 2 minutes). */
  readonly signInCodeTtlMs?: number
}

/**
 * OPENCLAW_SIGN_IN_CODE_TTL_MS: a shorter (or longer) life for sign-in codes, 1 s to 10 min;
 * meant for tests of expiry and for slow hands. Anything else is the 2-minute default.
 */
const signInCodeTtlMs = (env: Env): number => {
  const n = Number(env.OPENCLAW_SIGN_IN_CODE_TTL_MS)
  return Number.isInteger(n) && n >= 1_000 && n <= 600_000 ? n : SIGN_IN_CODE_TTL_MS
}

export class Auth extends Context.Tag("openclaw/Auth")<Auth, AuthService>() {
  static make = (
    settings: GatewayConfig["Type"]["auth"],
    whois: Whois = noWhois,
    options: AuthOptions = {}
  ): AuthService => {
    const cachedWhois = cachingWhois(whois)
    const clock = options.clock ?? Clock.make()
    const secret =
      settings.mode === "token" ? settings.token : settings.mode === "password" ? settings.password : undefined
    let secretDigest = secret === undefined ? undefined : digest(Redacted.value(secret))
    const signInCodes = new SignInCodes(() => clock.unsafeCurrentTimeMillis(), options.signInCodeTtlMs)
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

    const identityOf = (request: AuthRequest, kind: "token" | "password") =>
      identityPath(request, kind, {
        allowTailscale: settings.allowTailscale,
        peerWhois: options.peerWhois ?? false,
        whois: cachedWhois
      })

    /** The shared-secret check once the rate limiter let it proceed, recording the outcome. */
    const checkSecret = (
      kind: "token" | "password",
      request: AuthRequest,
      now: number
    ): Exit.Exit<AuthGrant, AuthFailure> => {
      const { credentials, deviceToken } = request
      const sharedOffered = [credentials?.token, credentials?.password].some(
        (s) => typeof s === "string" && s.length > 0
      )
      if (deviceToken === "valid") {
        limiter.recordSuccess(keyOf(request))
        const owner = sharedOffered && check(kind, credentials, request.clientMode) === undefined
        return Exit.succeed({ method: "device-token", ...(owner ? { sharedSecret: true as const } : {}) })
      }
      // Taken only here, past the rate limiter: a locked-out client cannot use up a code.
      const code = credentials?.signInCode
      if (code !== undefined && code.length > 0) {
        if (signInCodes.take(code)) {
          limiter.recordSuccess(keyOf(request))
          return Exit.succeed({ method: "sign-in-code" })
        }
        const lockedOut = limiter.recordFailure(keyOf(request), request.local, now)
        return Exit.fail(
          new AuthFailure({
            ...(lockedOut ? { lockedOutMs: settings.rateLimit.lockoutMs } : {}),
            code: "AUTH_SIGN_IN_CODE_INVALID",
            message: signInCodeRefusal
          })
        )
      }
      if (deviceToken === "invalid" && !sharedOffered) {
        const lockedOut = limiter.recordFailure(keyOf(request), request.local, now)
        return Exit.fail(
          new AuthFailure({
            ...(lockedOut ? { lockedOutMs: settings.rateLimit.lockoutMs } : {}),
            code: "AUTH_DEVICE_TOKEN_MISMATCH",
            message:
              request.deviceTokenProblem === undefined
                ? `unauthorized: device token mismatch (this device was removed or re-paired; connect once with the Gateway's ${kind} (--${kind}) to pair again)`
                : `unauthorized: ${request.deviceTokenProblem}`
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
      if (identityOf(request, settings.mode) !== undefined) return undefined
      const verdict = limiter.check(keyOf(request), request.local, now)
      if (verdict.kind === "locked") return Exit.fail(locked(request, verdict.retryAfterMs))
      return verdict.delayMs > 0 ? undefined : checkSecret(settings.mode, request, now)
    }

    return {
      mode: settings.mode,
      // Codes minted while the old secret was in force go with it.
      replaceSecret: (next) => void ((secretDigest = digest(next)), signInCodes.clear()),
      ...(settings.mode === "none" ? {} : { mintSignInCode: () => signInCodes.mint() }),
      decideNow: (request) => decideNow(request, clock.unsafeCurrentTimeMillis()),
      authenticate: (request) =>
        Effect.gen(function* () {
          const decided = decideNow(request, yield* Clock.currentTimeMillis)
          if (decided !== undefined) return yield* decided
          const kind = settings.mode as "token" | "password"
          const identity = identityOf(request, kind)
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
        handshakeTimeoutMs: settings.handshakeTimeoutMs,
        clock: yield* Effect.clock,
        signInCodeTtlMs: signInCodeTtlMs(settings.env ?? {})
      })
    })
  )

  /** Accepts exactly the given token; for tests of code that sits behind Auth. */
  static layerTest = (token = "test-token") =>
    Layer.effect(
      Auth,
      Effect.map(Effect.clock, (clock) =>
        Auth.make(
          {
            mode: "token",
            token: Redacted.make(token),
            password: undefined,
            allowTailscale: false,
            rateLimit: { maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000 },
            secretSource: "test"
          },
          noWhois,
          { clock }
        )
      )
    )
}
