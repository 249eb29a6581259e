/**
 * Failed-auth rate limiting, per client (shared/security.md sections 1 and 8).
 * Remote peers are locked out after maxAttempts failures within windowMs; a local peer (loopback,
 * no proxy headers, no browser Origin) is never locked out (that would lock the owner out of
 * their own machine) but each further attempt waits longer, which makes brute force useless.
 * The wait stays below the handshake timeout, so the owner's right secret always gets in.
 */
import type { RateLimitSettings } from "../../config/settings.js"
import { isLoopbackAddress, normaliseAddress, type ProxyHeaders } from "../../platform/http-peer.js"

/** Escalating delay for local peers past the limit: 250 ms doubling, at most `capMs`. */
const localDelayMs = (excess: number, capMs: number) => Math.min(250 * 2 ** Math.max(0, excess - 1), capMs)

/** The local delay's ceiling for a handshake timeout: half of it (the connect frame and the answer need the rest), at most 15 s. */
export const localDelayCapMs = (handshakeTimeoutMs: number) => Math.min(15_000, Math.floor(handshakeTimeoutMs / 2))

/** Every address in 127.0.0.0/8 and ::1 is the same machine: one record, not one per address. */
const sourceOf = (address: string) => (isLoopbackAddress(address) ? "loopback" : normaliseAddress(address))

/** What the limiter needs to know about who is asking (a subset of Auth's request). */
export interface Asker {
  /** Normalised socket peer address. */
  readonly remoteAddress: string
  /** Loopback peer, no proxy headers, no browser Origin: the owner's own programs. */
  readonly local: boolean
  readonly proxy?: ProxyHeaders
}

/** Prefix of keys taken from the forwarded client address. */
export const VIA_PROXY = "via proxy "

/**
 * The rate limiter's key: who is asking. Through the trusted same-host proxy (Tailscale Serve:
 * a loopback peer that may be Serve (gateway/serve-peer.ts: on Linux owned by root or tailscaled's
 * user) with X-Forwarded-For, -Proto and -Host, as security.md section 3 checks) that is
 * the forwarded client address, so one tailnet or Funnel client's guesses never lock out the
 * others or the owner; otherwise the socket address. Local programs and other loopback clients
 * (browser pages, untrusted proxies) are kept apart, so a success by one never wipes the other's
 * failures.
 */
export const askerKey = (asker: Asker, trustProxy: boolean): string => {
  const proxy = asker.proxy
  if (
    trustProxy &&
    proxy !== undefined &&
    proxy.fromServe &&
    proxy.forwardedFor !== undefined &&
    proxy.forwardedProto !== undefined &&
    proxy.forwardedHost !== undefined
  ) {
    return `${VIA_PROXY}${sourceOf(proxy.forwardedFor.split(",")[0]!.trim())}`
  }
  if (asker.local) return "local"
  return sourceOf(asker.remoteAddress)
}

/** Bound on remembered clients, so a spray of addresses cannot grow memory without limit. */
const MAX_TRACKED = 10_000

interface Entry {
  failures: Array<number>
  lockedUntil: number
}

export type Verdict =
  { readonly kind: "allow"; readonly delayMs: number } | { readonly kind: "locked"; readonly retryAfterMs: number }

export class AuthRateLimiter {
  private readonly entries = new Map<string, Entry>()

  constructor(
    private readonly settings: RateLimitSettings,
    /** The local delay's ceiling (localDelayCapMs of the handshake timeout). */
    private readonly maxDelayMs = 15_000
  ) {}

  /** Before checking credentials: may this attempt proceed, and after how long a wait? */
  check(key: string, local: boolean, now: number): Verdict {
    const entry = this.entries.get(key)
    if (entry === undefined) return { kind: "allow", delayMs: 0 }
    if (!local && entry.lockedUntil > now) return { kind: "locked", retryAfterMs: entry.lockedUntil - now }
    const recent = this.prune(entry, now)
    const excess = recent - this.settings.maxAttempts + 1
    return { kind: "allow", delayMs: local && excess > 0 ? localDelayMs(excess, this.maxDelayMs) : 0 }
  }

  /** Records a failed attempt; true when this one started a lock-out of `key`. */
  recordFailure(key: string, local: boolean, now: number): boolean {
    let entry = this.entries.get(key)
    if (entry === undefined) {
      if (this.entries.size >= MAX_TRACKED) this.evict(now)
      entry = { failures: [], lockedUntil: 0 }
      this.entries.set(key, entry)
    }
    entry.failures.push(now)
    if (local || this.prune(entry, now) < this.settings.maxAttempts) return false
    const startsLockout = entry.lockedUntil <= now
    entry.lockedUntil = now + this.settings.lockoutMs
    return startsLockout
  }

  recordSuccess(key: string): void {
    this.entries.delete(key)
  }

  private prune(entry: Entry, now: number): number {
    const from = now - this.settings.windowMs
    while (entry.failures.length > 0 && entry.failures[0]! < from) entry.failures.shift()
    return entry.failures.length
  }

  private evict(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.lockedUntil <= now && this.prune(entry, now) === 0) this.entries.delete(key)
    }
    // Still full: drop the oldest entries (Map keeps insertion order).
    for (const key of this.entries.keys()) {
      if (this.entries.size < MAX_TRACKED) break
      this.entries.delete(key)
    }
  }
}
