import * as net from "node:net"
import { Effect, Either, Exit, Scope } from "effect"
import { describe, expect, it } from "vitest"
import { findTailnetAddress, makeBinder } from "../../src/services/Binder.js"

const bindWith = async (binder: ReturnType<typeof makeBinder>, port = 0) => {
  const scope = Effect.runSync(Scope.make())
  const result = await Effect.runPromise(Effect.either(Scope.extend(binder.bind(port, (s) => s.on("error", () => {}).destroy()), scope)))
  return { result, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy()
      resolve(true)
    })
    s.on("error", () => resolve(false))
  })

const hasIPv6Loopback = await new Promise<boolean>((resolve) => {
  const s = net.createServer().listen({ host: "::1", port: 0 }, () => s.close(() => resolve(true)))
  s.on("error", () => resolve(false))
})

describe("Binder", () => {
  it("loopback binds 127.0.0.1 (and ::1 where available) on one port, and never a wildcard", async () => {
    const { result, close } = await bindWith(makeBinder("loopback", undefined, () => ({})))
    const listeners = Either.getOrThrow(result)
    expect(listeners.addresses.map((a) => a.host)).toEqual(hasIPv6Loopback ? ["127.0.0.1", "::1"] : ["127.0.0.1"])
    expect(new Set(listeners.addresses.map((a) => a.port)).size).toBe(1)
    expect(await connects("127.0.0.1", listeners.port)).toBe(true)
    if (hasIPv6Loopback) expect(await connects("::1", listeners.port)).toBe(true)
    await close()
    expect(await connects("127.0.0.1", listeners.port)).toBe(false)
  })

  it("a port in use is an error naming the port and the setting to change", async () => {
    const first = await bindWith(makeBinder("loopback", undefined, () => ({})))
    const port = Either.getOrThrow(first.result).port
    const second = await bindWith(makeBinder("loopback", undefined, () => ({})), port)
    expect(Either.isLeft(second.result)).toBe(true)
    const message = Either.isLeft(second.result) ? second.result.left.message : ""
    expect(message).toContain(`port ${port} is already in use`)
    expect(message).toContain("--port")
    await first.close()
    await second.close()
  })

  it("tailnet binds only the Tailscale address; none is a clear error, not a fallback", async () => {
    const ifaces = () => ({
      eth0: [{ address: "192.168.1.4", family: "IPv4", internal: false } as any],
      tailscale0: [{ address: "fd7a:115c:a1e0::5", family: "IPv6", internal: false } as any, { address: "100.101.102.103", family: "IPv4", internal: false } as any]
    })
    expect(findTailnetAddress(ifaces)).toBe("100.101.102.103")
    const none = await bindWith(makeBinder("tailnet", undefined, () => ({ lo: [{ address: "127.0.0.1", family: "IPv4", internal: true } as any] })))
    expect(Either.isLeft(none.result) && none.result.left.message).toContain('gateway.bind is "tailnet" but this machine has no Tailscale address')
    await none.close()
  })

  it("custom binds exactly customBindHost; an address the machine lacks is an error, not a fallback", async () => {
    const ok = await bindWith(makeBinder("custom", "127.0.0.2", () => ({})))
    expect(Either.getOrThrow(ok.result).addresses.map((a) => a.host)).toEqual(["127.0.0.2"])
    await ok.close()
    const bad = await bindWith(makeBinder("custom", "192.0.2.77", () => ({})))
    expect(Either.isLeft(bad.result) && bad.result.left.message).toContain("cannot bind 192.0.2.77")
    await bad.close()
  })

  it("auto binds loopback when it can", async () => {
    const { result, close } = await bindWith(makeBinder("auto", undefined, () => ({})))
    const l = Either.getOrThrow(result)
    expect(l.effectiveMode).toBe("loopback")
    expect(l.addresses[0]!.host).toBe("127.0.0.1")
    await close()
  })
})
