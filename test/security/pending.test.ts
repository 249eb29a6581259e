import { afterEach, describe, expect, it } from "vitest"
import { PendingPool, pendingLimitsFor, SPENT } from "../../src/services/gateway/pending.js"

interface Sock {
  readonly name: string
  /** When it last moved on (ms), or SPENT. */
  progress: number
}

const limits = { perAddress: 3, total: 5, hardTotal: 8, graceMs: 100, stepMs: 10, evictPerStep: 64 }

describe("PendingPool: fair admission", () => {
  let now = 0
  const pools: Array<PendingPool<Sock>> = []
  const make = (l = limits) => {
    const evicted: Array<string> = []
    const pool = new PendingPool<Sock>(
      (s) => s.progress,
      (s) => evicted.push(s.name),
      l,
      () => now
    )
    pools.push(pool)
    return { pool, evicted }
  }
  afterEach(() => {
    for (const p of pools) p.close()
    now = 0
  })
  const sock = (name: string, progress = 0): Sock => ({ name, progress })

  it("never refuses a newcomer: over the per-address cap it evicts that address's socket longest without progress", () => {
    const { pool, evicted } = make()
    const a = [sock("a0", 50), sock("a1", 10), sock("a2", 0), sock("a3", 30)]
    for (const s of a) pool.admit(s, "127.0.0.1")
    pool.admit(sock("b0"), "203.0.113.1")
    now = 200
    pool.trim()
    // a2 has not moved since it was accepted: it goes before a1, which sent bytes at 10.
    expect(evicted).toEqual(["a2"])
    expect(pool.sizeOf("127.0.0.1")).toBe(3)
    expect(pool.sizeOf("203.0.113.1")).toBe(1)
  })

  it("over the total cap the socket of any address longest without progress goes", () => {
    const { pool, evicted } = make()
    pool.admit(sock("x0", 20), "198.51.100.1")
    pool.admit(sock("y0", 5), "198.51.100.2")
    pool.admit(sock("z0", 10), "198.51.100.3")
    pool.admit(sock("w0", 20), "198.51.100.4")
    pool.admit(sock("v0", 20), "198.51.100.5")
    pool.admit(sock("u0", 20), "198.51.100.6")
    now = 200
    pool.trim()
    expect(evicted).toEqual(["y0"])
    expect(pool.size).toBe(5)
  })

  it("spares sockets younger than graceMs (their first bytes may not be read yet), and at the hard ceiling evicts at once", () => {
    const { pool, evicted } = make()
    for (let i = 0; i < 4; i++) pool.admit(sock(`old${i}`), "127.0.0.1")
    now = 150
    pool.admit(sock("young", 150), "127.0.0.1")
    pool.trim()
    expect(evicted).toEqual(["old0", "old1"])
    expect(pool.sizeOf("127.0.0.1")).toBe(3)
    // A burst: the old ones go, the young ones stay over the cap for now...
    for (let i = 0; i < 5; i++) pool.admit(sock(`burst${i}`, 150), "127.0.0.1")
    pool.trim()
    expect(evicted).toEqual(["old0", "old1", "old2", "old3"])
    expect(pool.size).toBe(6)
    // ...but the hard ceiling (8 in all) holds at once, young or not.
    pool.admit(sock("seventh", 150), "127.0.0.1")
    pool.admit(sock("eighth", 150), "127.0.0.1")
    pool.admit(sock("ninth", 150), "127.0.0.1")
    expect(evicted).toEqual(["old0", "old1", "old2", "old3", "young"])
    expect(pool.size).toBe(8)
  })

  it("a spent socket (refused, timed out) goes first, however recently it moved; at the ceiling a newcomer is not judged before its bytes are read", () => {
    const { pool, evicted } = make()
    const refused = sock("refused", 90)
    pool.admit(sock("bytes", 20), "127.0.0.1")
    pool.admit(refused, "127.0.0.1")
    pool.admit(sock("open", 60), "127.0.0.1")
    // Its connect was refused: the socket is closing, nothing more will come of it.
    refused.progress = SPENT
    pool.admit(sock("new", 95), "127.0.0.1")
    now = 200
    pool.trim()
    expect(evicted).toEqual(["refused"])
    // A pool full of sockets that keep moving on (a fast flood), then a burst of accepts: the one
    // that went longest without progress goes each time, not the previous newcomer.
    const { pool: full, evicted: cut } = make()
    for (let i = 0; i < 8; i++) full.admit(sock(`busy${i}`, 100 + i), `198.51.100.${i}`)
    now = 300
    full.admit(sock("owner", 300), "127.0.0.1")
    full.admit(sock("next", 300), "127.0.0.1")
    expect(cut).toEqual(["busy0", "busy1"])
    expect(full.size).toBe(8)
  })

  it("the caps come from the open-file limit: at most half of it (4096 at most), trimmed to half of that and never above 512; 256 assumed where it is unknown", () => {
    expect(pendingLimitsFor(256)).toMatchObject({ hardTotal: 128, total: 64, perAddress: 64 })
    expect(pendingLimitsFor(undefined)).toMatchObject({ hardTotal: 128, total: 64 })
    expect(pendingLimitsFor(512)).toMatchObject({ hardTotal: 256, total: 128, perAddress: 64 })
    expect(pendingLimitsFor(1024)).toMatchObject({ hardTotal: 512, total: 256 })
    expect(pendingLimitsFor(1_048_576)).toMatchObject({ hardTotal: 4096, total: 512 })
    expect(pendingLimitsFor(40).hardTotal).toBe(32)
  })

  it("a released socket (authenticated or closed) leaves the count", () => {
    const { pool } = make()
    const s = sock("s")
    pool.admit(s, "127.0.0.1")
    pool.release(s)
    pool.release(s)
    expect(pool.size).toBe(0)
    expect(pool.has(s)).toBe(false)
  })
})
