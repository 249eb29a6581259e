/** A refused connect, as answered to the client and as told to the Gateway's log and audit. */
import { CloseCode, ErrorCode, type ErrorShape, type Role } from "../../protocol/frames.js"
import type { AuthFailure } from "../auth/Auth.js"

/** A refused connect: the error answered, then the socket closed with closeCode. */
export interface ConnectRefusal {
  readonly _tag: "ConnectRefusal"
  readonly shape: ErrorShape
  readonly closeCode: number
  /** This refusal locked the peer's address out for so long (rate limiter). */
  readonly lockedOutMs?: number
}

/** What the Gateway may log about a refused connect: who asked, as what, and why (a code, no credential). */
export interface RefusedConnect {
  readonly clientId: string
  readonly clientMode: string
  readonly role: Role
  /** details.code when the answer has one (AUTH_TOKEN_MISMATCH, AUTH_RATE_LIMITED, DEVICE_..., PAIRING_REQUIRED...), else the error code. */
  readonly code: string
  readonly lockedOutMs?: number
}
export const connectRefusal = (
  shape: ErrorShape,
  closeCode: number = CloseCode.policy,
  lockedOutMs?: number
): ConnectRefusal => ({
  _tag: "ConnectRefusal",
  shape,
  closeCode,
  ...(lockedOutMs === undefined ? {} : { lockedOutMs })
})

/** A rejected credential, as the connect answer. */
export const refusalOf = (f: AuthFailure): ConnectRefusal =>
  connectRefusal(
    {
      code: ErrorCode.invalidRequest,
      message: f.message,
      details: { code: f.code },
      ...(f.retryAfterMs === undefined ? {} : { retryable: true, retryAfterMs: f.retryAfterMs })
    },
    CloseCode.policy,
    f.lockedOutMs
  )
