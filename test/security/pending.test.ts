import { afterEach, describe, expect, it } from "vitest"
import { NEVER_EVICT, PendingPool } from "../../src/services/gateway/pending.js"

interface Sock {
  readonly name: string
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

  it("never refuses a newcomer: over the per-address cap it evicts that address's oldest least-advanced socket, never one that sent its connect", () => {
    const { pool, evicted } = make()
    const a = [sock("a0", NEVER_EVICT), sock("a1", 1), sock("a2", 0), sock("a3", 2)]
    for (const s of a) pool.admit(s, "127.0.0.1")
    pool.admit(sock("b0"), "203.0.113.1")
    now = 200
    pool.trim()
    // a2 is silent (0): it goes before a1 (sent bytes) although a1 is older; a0 has sent its connect.
    expect(evicted).toEqual(["a2"])
    expect(pool.sizeOf("127.0.0.1")).toBe(3)
    expect(pool.sizeOf("203.0.113.1")).toBe(1)
  })

  it("over the total cap the oldest least-advanced socket of any address goes", () => {
    const { pool, evicted } = make()
    pool.admit(sock("x0", 2), "198.51.100.1")
    pool.admit(sock("y0", 1), "198.51.100.2")
    pool.admit(sock("z0", 1), "198.51.100.3")
    pool.admit(sock("w0", 2), "198.51.100.4")
    pool.admit(sock("v0", 2), "198.51.100.5")
    pool.admit(sock("u0", 2), "198.51.100.6")
    now = 200
    pool.trim()
    expect(evicted).toEqual(["y0"])
    expect(pool.size).toBe(5)
  })

  it("spares sockets younger than graceMs (their first bytes may not be read yet), and at the hard ceiling evicts at once", () => {
    const { pool, evicted } = make()
    for (let i = 0; i < 4; i++) pool.admit(sock(`old${i}`), "127.0.0.1")
    now = 150
    pool.admit(sock("young"), "127.0.0.1")
    pool.trim()
    expect(evicted).toEqual(["old0", "old1"])
    expect(pool.sizeOf("127.0.0.1")).toBe(3)
    // A burst: the old ones go, the young ones stay over the cap for now...
    for (let i = 0; i < 5; i++) pool.admit(sock(`burst${i}`), "127.0.0.1")
    pool.trim()
    expect(evicted).toEqual(["old0", "old1", "old2", "old3"])
    expect(pool.size).toBe(6)
    // ...but the hard ceiling (8 in all) holds at once, young or not.
    pool.admit(sock("seventh"), "127.0.0.1")
    pool.admit(sock("eighth"), "127.0.0.1")
    pool.admit(sock("ninth"), "127.0.0.1")
    expect(evicted).toEqual(["old0", "old1", "old2", "old3", "young"])
    expect(pool.size).toBe(8)
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
