/**
 * Failed-auth rate limiting, per normalised client address (shared/security.md section 1).
 * Remote peers are locked out after maxAttempts failures within windowMs; a local peer (loopback,
 * no proxy headers, no browser Origin) is never locked out (that would lock the owner out of
 * their own machine) but each further attempt waits longer, which makes brute force useless.
 */
import type { RateLimitSettings } from "../config/settings.js"

/** Escalating delay for local peers past the limit: 250 ms doubling, at most 15 s. */
const localDelayMs = (excess: number) => Math.min(250 * 2 ** Math.max(0, excess - 1), 15_000)

/** Bound on remembered addresses, so a spray of addresses cannot grow memory without limit. */
const MAX_TRACKED = 10_000

interface Entry {
  failures: Array<number>
  lockedUntil: number
}

export type Verdict = { readonly kind: "allow"; readonly delayMs: number } | { readonly kind: "locked"; readonly retryAfterMs: number }

export class AuthRateLimiter {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly settings: RateLimitSettings) {}

  /** Before checking credentials: may this attempt proceed, and after how long a wait? */
  check(address: string, local: boolean, now: number): Verdict {
    const entry = this.entries.get(address)
    if (entry === undefined) return { kind: "allow", delayMs: 0 }
    if (!local && entry.lockedUntil > now) return { kind: "locked", retryAfterMs: entry.lockedUntil - now }
    const recent = this.prune(entry, now)
    const excess = recent - this.settings.maxAttempts + 1
    return { kind: "allow", delayMs: local && excess > 0 ? localDelayMs(excess) : 0 }
  }

  /** Records a failed attempt; true when this one started a lock-out of `address`. */
  recordFailure(address: string, local: boolean, now: number): boolean {
    let entry = this.entries.get(address)
    if (entry === undefined) {
      if (this.entries.size >= MAX_TRACKED) this.evict(now)
      entry = { failures: [], lockedUntil: 0 }
      this.entries.set(address, entry)
    }
    entry.failures.push(now)
    if (local || this.prune(entry, now) < this.settings.maxAttempts) return false
    const startsLockout = entry.lockedUntil <= now
    entry.lockedUntil = now + this.settings.lockoutMs
    return startsLockout
  }

  recordSuccess(address: string): void {
    this.entries.delete(address)
  }

  private prune(entry: Entry, now: number): number {
    const from = now - this.settings.windowMs
    while (entry.failures.length > 0 && entry.failures[0]! < from) entry.failures.shift()
    return entry.failures.length
  }

  private evict(now: number): void {
    for (const [address, entry] of this.entries) {
      if (entry.lockedUntil <= now && this.prune(entry, now) === 0) this.entries.delete(address)
    }
    // Still full: drop the oldest entries (Map keeps insertion order).
    for (const address of this.entries.keys()) {
      if (this.entries.size < MAX_TRACKED) break
      this.entries.delete(address)
    }
  }
}
