/**
 * Auth: checks the credentials of a connect request against the configured shared secret.
 * Secrets are compared in constant time (as SHA-256 digests, so lengths do not leak either).
 */
import { createHash, timingSafeEqual } from "node:crypto"
import { Clock, Context, Data, Effect, Layer, Redacted } from "effect"
import { AuthRateLimiter } from "../gateway/rate-limit.js"
import type { AuthMethod, ClientMode } from "../protocol/frames.js"
import { GatewayConfig } from "./GatewayConfig.js"

export type AuthFailureCode =
  | "AUTH_TOKEN_MISSING"
  | "AUTH_TOKEN_MISMATCH"
  | "AUTH_PASSWORD_MISSING"
  | "AUTH_PASSWORD_MISMATCH"
  | "AUTH_RATE_LIMITED"
  | "AUTH_DEVICE_TOKEN_MISMATCH"

/** A rejected connect; `message` starts with "unauthorized:" and carries a hint for that kind of client. */
export class AuthFailure extends Data.TaggedError("AuthFailure")<{
  readonly code: AuthFailureCode
  readonly message: string
  readonly retryAfterMs?: number
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
}

export interface AuthGrant {
  readonly method: AuthMethod
}

export interface AuthService {
  readonly mode: "none" | "token" | "password"
  readonly authenticate: (request: AuthRequest) => Effect.Effect<AuthGrant, AuthFailure>
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest()

export const constantTimeEqual = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b))

const isBrowser = (mode: ClientMode) => mode === "ui" || mode === "webchat"

const hint = (kind: "token" | "password", problem: "missing" | "mismatch", mode: ClientMode): string => {
  if (mode === "node") return `pass the Gateway's gateway.auth.${kind} to \`openclaw node run --${kind}\``
  if (isBrowser(mode)) {
    return `enter the Gateway's ${kind} in the Control UI settings (gateway.auth.${kind} on the Gateway host)`
  }
  return problem === "missing"
    ? `pass --${kind}, set OPENCLAW_GATEWAY_${kind.toUpperCase()}, or set gateway.remote.${kind} to the Gateway's gateway.auth.${kind}`
    : `set gateway.remote.${kind} to match gateway.auth.${kind}`
}

export class Auth extends Context.Tag("openclaw/Auth")<Auth, AuthService>() {
  static make = (settings: GatewayConfig["Type"]["auth"]): AuthService => {
    const secret = settings.mode === "token" ? settings.token : settings.mode === "password" ? settings.password : undefined
    const secretDigest = secret === undefined ? undefined : digest(Redacted.value(secret))
    const limiter = new AuthRateLimiter(settings.rateLimit)

    const check = (kind: "token" | "password", credentials: AuthRequest["credentials"], clientMode: ClientMode): AuthFailure | undefined => {
      const upper = kind.toUpperCase() as "TOKEN" | "PASSWORD"
      // The shared secret is accepted in either field; the mode only says which one is configured.
      const offered = [credentials?.token, credentials?.password].filter((s): s is string => typeof s === "string" && s.length > 0)
      if (offered.length === 0) {
        return new AuthFailure({ code: `AUTH_${upper}_MISSING`, message: `unauthorized: gateway ${kind} missing (${hint(kind, "missing", clientMode)})` })
      }
      // Compare every offered value so timing does not reveal which field matched.
      let ok = false
      for (const candidate of offered) ok = timingSafeEqual(digest(candidate), secretDigest!) || ok
      return ok
        ? undefined
        : new AuthFailure({ code: `AUTH_${upper}_MISMATCH`, message: `unauthorized: gateway ${kind} mismatch (${hint(kind, "mismatch", clientMode)})` })
    }

    return {
      mode: settings.mode,
      authenticate: ({ clientMode, credentials, deviceToken, local, remoteAddress }) => {
        if (settings.mode === "none") return Effect.succeed({ method: "none" })
        const kind = settings.mode
        return Effect.gen(function* () {
          const verdict = limiter.check(remoteAddress, local, yield* Clock.currentTimeMillis)
          if (verdict.kind === "locked") {
            return yield* new AuthFailure({
              code: "AUTH_RATE_LIMITED",
              message: `unauthorized: too many failed attempts from ${remoteAddress}; try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s`,
              retryAfterMs: verdict.retryAfterMs
            })
          }
          if (verdict.delayMs > 0) yield* Effect.sleep(verdict.delayMs)
          if (deviceToken === "valid") {
            limiter.recordSuccess(remoteAddress)
            return { method: "device-token" } satisfies AuthGrant
          }
          const sharedOffered = [credentials?.token, credentials?.password].some((s) => typeof s === "string" && s.length > 0)
          if (deviceToken === "invalid" && !sharedOffered) {
            limiter.recordFailure(remoteAddress, local, yield* Clock.currentTimeMillis)
            return yield* new AuthFailure({
              code: "AUTH_DEVICE_TOKEN_MISMATCH",
              message: `unauthorized: device token mismatch (this device was removed or re-paired; connect once with the Gateway's ${kind} (--${kind}) to pair again)`
            })
          }
          const failure = check(kind, credentials, clientMode)
          if (failure === undefined) {
            limiter.recordSuccess(remoteAddress)
            return { method: kind } satisfies AuthGrant
          }
          // A missing credential is a client that has none, not a guess; only wrong secrets count.
          if (failure.code.endsWith("_MISMATCH")) limiter.recordFailure(remoteAddress, local, yield* Clock.currentTimeMillis)
          return yield* failure
        })
      }
    }
  }

  static layer = Layer.effect(Auth, Effect.map(GatewayConfig, (settings) => Auth.make(settings.auth)))

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
