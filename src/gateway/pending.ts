/**
 * Caps on sockets that have not authenticated yet, per address and in total, so a flood of
 * idle connections cannot exhaust file descriptors or starve real clients (security.md section 8).
 * A socket leaves the count when it authenticates or closes.
 */
export const PENDING_LIMITS = { perAddress: 64, total: 512 } as const

export class PendingSockets {
  private readonly byAddress = new Map<string, number>()
  private count = 0

  constructor(private readonly limits: { readonly perAddress: number; readonly total: number } = PENDING_LIMITS) {}

  /** Counts the socket in, or returns false when a cap is reached (the caller drops it). */
  admit(address: string): boolean {
    const current = this.byAddress.get(address) ?? 0
    if (current >= this.limits.perAddress || this.count >= this.limits.total) return false
    this.byAddress.set(address, current + 1)
    this.count++
    return true
  }

  release(address: string): void {
    const current = this.byAddress.get(address)
    if (current === undefined) return
    this.count--
    if (current <= 1) this.byAddress.delete(address)
    else this.byAddress.set(address, current - 1)
  }

  get size(): number {
    return this.count
  }
}
