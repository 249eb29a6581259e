/** What Auth is asked (a connect request's credentials and origin) and how it says no. */
import { Data, Effect } from "effect"
import type { ProxyHeaders } from "../../platform/http-peer.js"
import type { AuthMethod, ClientMode, Role } from "../../protocol/frames.js"

export type AuthFailureCode =
  | "AUTH_TOKEN_MISSING"
  | "AUTH_TOKEN_MISMATCH"
  | "AUTH_PASSWORD_MISSING"
  | "AUTH_PASSWORD_MISMATCH"
  | "AUTH_RATE_LIMITED"
  | "AUTH_DEVICE_TOKEN_MISMATCH"
  | "AUTH_SIGN_IN_CODE_INVALID"
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
  /** signInCode: a one-time code from a Control UI link (sign-in-codes.ts), only with a signed device. */
  readonly credentials:
    { readonly token?: string; readonly password?: string; readonly signInCode?: string } | undefined
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
  /** Why a device token that matched may not sign in this way (another role, an older record): told to the client. */
  readonly deviceTokenProblem?: string
  /** Requested role (default operator): header identity never authenticates a node. */
  readonly role?: Role
  /** What the upgrade request said about a proxy in front (Tailscale Serve). */
  readonly proxy?: ProxyHeaders
}

export interface AuthGrant {
  readonly method: AuthMethod
  /** For method "tailscale": who, as confirmed by whois. */
  readonly identity?: { readonly login: string; readonly name?: string }
  /**
   * For method "device-token": the right shared secret came with it. That is the owner, whose
   * scopes are what it asks for, not the device token's.
   */
  readonly sharedSecret?: true
}

/** A refusal whose message starts with "unauthorized:". */
export const reject = (code: AuthFailureCode, message: string) =>
  Effect.fail(new AuthFailure({ code, message: `unauthorized: ${message}` }))
