import * as net from "node:net"
import { Effect, Either, Exit, Logger, Scope } from "effect"
import { describe, expect, it } from "vitest"
import {
  type BindError,
  findTailnetAddress,
  makeBinder,
  resolveTailnetAddress
} from "../../../src/services/binder/Binder.js"
import { TailscaleError, type TailscaleCliService } from "../../../src/services/tailscale/TailscaleCli.js"

const bindWith = async (binder: ReturnType<typeof makeBinder>, port = 0) => {
  const scope = Effect.runSync(Scope.make())
  const result = await Effect.runPromise(
    Effect.either(
      Scope.extend(
        binder.bind(port, (s) => s.on("error", () => {}).destroy()),
        scope
      )
    )
  )
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
    const second = await bindWith(
      makeBinder("loopback", undefined, () => ({})),
      port
    )
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
      tailscale0: [
        { address: "fd7a:115c:a1e0::5", family: "IPv6", internal: false } as any,
        { address: "100.101.102.103", family: "IPv4", internal: false } as any
      ]
    })
    expect(findTailnetAddress(ifaces)).toBe("100.101.102.103")
    const none = await bindWith(
      makeBinder("tailnet", undefined, () => ({
        lo: [{ address: "127.0.0.1", family: "IPv4", internal: true } as any]
      }))
    )
    expect(Either.isLeft(none.result) && none.result.left.message).toContain(
      'gateway.bind is "tailnet" but this machine has no Tailscale address'
    )
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

describe("tailnet address: the one Tailscale reports, not any address in its range", () => {
  const ifaces = () => ({
    // A carrier-grade NAT WAN address (in 100.64.0.0/10, listed first) and this node's real tailnet addresses.
    wan0: [{ address: "100.88.0.1", family: "IPv4", internal: false } as any],
    tailscale0: [
      { address: "fd7a:115c:a1e0::5", family: "IPv6", internal: false } as any,
      { address: "100.101.102.103", family: "IPv4", internal: false } as any
    ]
  })
  const cli = (status: TailscaleCliService["status"]): TailscaleCliService => ({
    status,
    whois: () => Effect.die("unused"),
    serveStatus: Effect.die("unused"),
    enable: () => Effect.die("unused"),
    disable: () => Effect.die("unused")
  })
  const reporting = (ips: Array<string>, backendState = "Running") =>
    cli(
      Effect.succeed({
        backendState,
        dnsName: "gw.tail1234.ts.net",
        tailscaleIps: ips,
        certDomains: [],
        funnelAllowed: false
      })
    )
  const logsOf = async (effect: Effect.Effect<string, unknown>) => {
    const logs: Array<string> = []
    const logger = Logger.make(({ message }) => logs.push(String(Array.isArray(message) ? message.join(" ") : message)))
    const result = await Effect.runPromise(
      Effect.either(effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))))
    )
    return { result, logs }
  }

  it("IPv4 first from Self.TailscaleIPs, silently", async () => {
    const { result, logs } = await logsOf(
      resolveTailnetAddress(ifaces, reporting(["fd7a:115c:a1e0::5", "100.101.102.103"]))
    )
    expect(Either.getOrThrow(result)).toBe("100.101.102.103")
    expect(logs).toEqual([])
  })

  it("the range scan only when the tailscale CLI is absent, with a warning that says so", async () => {
    const missing = cli(
      Effect.fail(new TailscaleError({ kind: "binary-missing", message: "the tailscale CLI was not found" }))
    )
    const { result, logs } = await logsOf(resolveTailnetAddress(ifaces, missing))
    expect(Either.getOrThrow(result)).toBe("100.88.0.1")
    expect(logs.join("\n")).toContain(
      'gateway.bind "tailnet": the tailscale CLI was not found, so the Gateway binds 100.88.0.1'
    )
  })

  it("any other Tailscale failure, no address, or an address no interface holds is an error, not the scan", async () => {
    const down = cli(
      Effect.fail(new TailscaleError({ kind: "daemon-down", message: "tailscaled is not running: start it" }))
    )
    const message = async (service: TailscaleCliService) => {
      const { result } = await logsOf(resolveTailnetAddress(ifaces, service))
      return Either.isLeft(result) ? (result.left as BindError).message : `bound ${Either.getOrThrow(result)}`
    }
    expect(await message(down)).toContain(
      "Tailscale could not say which address is this node's: tailscaled is not running"
    )
    expect(await message(reporting([], "NeedsLogin"))).toContain("reports no address for this node (state NeedsLogin)")
    expect(await message(reporting(["100.99.99.99"]))).toContain(
      "Tailscale reports 100.99.99.99 for this node, but no network interface here holds it"
    )
  })
})
