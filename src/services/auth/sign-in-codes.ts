/**
 * One-time sign-in codes: what `openclaw dashboard` and the start-up banner put in a Control UI
 * link instead of the long-lived token (a command line is readable by every local user, and the
 * browser's argv and history keep it). A code is 192 random bits, works once, for about two
 * minutes, and only in a browser's signed connect, which turns it into that browser's own device
 * token. Codes live in this process's memory only, kept as SHA-256 digests: a heap dump or a
 * debugger shows no usable code, and a restart voids them all.
 */
import { createHash, randomBytes } from "node:crypto"

export const SIGN_IN_CODE_TTL_MS = 120_000
/** Outstanding codes at most: minting needs operator.admin, but a loop of it must not grow memory. */
export const MAX_SIGN_IN_CODES = 16
/** 24 bytes: 192 bits of CSPRNG output, 32 characters of base64url. */
const CODE_BYTES = 24

export interface IssuedCode {
  readonly code: string
  readonly expiresAt: number
}

const digest = (code: string) => createHash("sha256").update(code, "utf8").digest("base64url")

export class SignInCodes {
  /** digest -> expiry, oldest first (a Map iterates in insertion order). */
  private readonly live = new Map<string, number>()

  constructor(
    private readonly now: () => number,
    readonly ttlMs: number = SIGN_IN_CODE_TTL_MS
  ) {}

  mint(): IssuedCode {
    const now = this.now()
    this.dropExpired(now)
    // Full: the oldest code goes (the one most likely abandoned), never the new one.
    while (this.live.size >= MAX_SIGN_IN_CODES) this.live.delete(this.live.keys().next().value!)
    const code = randomBytes(CODE_BYTES).toString("base64url")
    const expiresAt = now + this.ttlMs
    this.live.set(digest(code), expiresAt)
    return { code, expiresAt }
  }

  /** True once for a live code: it is gone after this call whatever the answer. */
  take(code: string): boolean {
    // A digest lookup: no secret is compared byte by byte, so timing tells nothing about a code.
    const key = digest(code)
    const expiresAt = this.live.get(key)
    if (expiresAt === undefined) return false
    this.live.delete(key)
    return this.now() < expiresAt
  }

  /** Every outstanding code void (the shared secret was rotated: codes minted with it go too). */
  clear(): void {
    this.live.clear()
  }

  get outstanding(): number {
    this.dropExpired(this.now())
    return this.live.size
  }

  private dropExpired(now: number): void {
    for (const [key, expiresAt] of this.live) if (expiresAt <= now) this.live.delete(key)
  }
}
