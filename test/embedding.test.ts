/** Scenario F: an Effect application embeds the Gateway and swaps a boundary for a test layer. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as net from "node:net"
import WebSocket from "ws"
import {
  Auth,
  Binder,
  Gateway,
  GatewayClient,
  GatewayConfig,
  gatewayServices,
  TailscaleExposure
} from "../src/index.js"

const portAccepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy()
      resolve(true)
    })
    s.on("error", () => resolve(false))
  })

describe("embedding", () => {
  it.scoped(
    "runs the Gateway in-process on a random port with a mock Tailscale layer, and talks to it with the client",
    () =>
      Effect.gen(function* () {
        const gateway = yield* Gateway
        const conn = yield* GatewayClient.connect({ url: gateway.url, token: "test-token", scopes: ["operator.read"] })
        expect(conn.hello.protocol).toBe(4)
        const status = yield* conn.request("status")
        expect(status.exposure).toEqual({ mode: "serve", state: "active", url: "https://gw.tail1234.ts.net/" })
        expect(status.bind.port).toBe(gateway.listeners.port)
      }).pipe(
        Effect.provide(
          gatewayServices(GatewayConfig.layerTest(), {
            exposure: TailscaleExposure.layerTest({
              mode: "serve",
              state: "active",
              url: "https://gw.tail1234.ts.net/"
            })
          })
        )
      )
  )

  it.effect("releases in reverse order: Tailscale route, then clients (shutdown, 1012), then listeners", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      let port = 0
      // Binder wrapped to log when its listeners are about to close (its own finalizers run right after).
      const binder = Layer.effect(
        Binder,
        Effect.map(Binder, (real) => ({
          bind: (p, onConnection) =>
            Effect.tap(real.bind(p, onConnection), (l) =>
              Effect.sync(() => (port = l.port)).pipe(
                Effect.zipRight(Effect.addFinalizer(() => Effect.sync(() => log.push("listeners closing"))))
              )
            )
        }))
      ).pipe(Layer.provide(Binder.layer))
      const config = GatewayConfig.layerTest()
      const app = TailscaleExposure.layerTest({ mode: "serve", state: "active" }, () =>
        log.push("route withdrawn")
      ).pipe(
        Layer.provideMerge(Gateway.layer),
        Layer.provideMerge(Layer.mergeAll(Auth.layer, binder)),
        Layer.provideMerge(config)
      )
      const ws = yield* Effect.scoped(
        Effect.gen(function* () {
          const gateway = yield* Gateway
          const socket = new WebSocket(gateway.url)
          socket.on("message", (d) => {
            if (JSON.parse(d.toString()).event === "shutdown") log.push("client told shutdown")
          })
          socket.on("close", (code) => log.push(`client closed ${code}`))
          yield* Effect.promise(() => new Promise((r) => socket.once("open", r)))
          socket.send(
            JSON.stringify({
              type: "req",
              id: "1",
              method: "connect",
              params: {
                minProtocol: 4,
                maxProtocol: 4,
                client: { id: "t", version: "1", platform: "linux", mode: "test" },
                auth: { token: "test-token" }
              }
            })
          )
          yield* Effect.promise(
            () => new Promise((r) => socket.on("message", (d) => JSON.parse(d.toString()).type === "res" && r(null)))
          )
          return socket
        }).pipe(Effect.provide(app))
      )
      expect(ws).toBeDefined()
      expect(log).toEqual(["route withdrawn", "client told shutdown", "client closed 1012", "listeners closing"])
      expect(yield* Effect.promise(() => portAccepts(port))).toBe(false)
    })
  )

  it("the README's program, importing the built package, leaves nothing behind that keeps Node running", async () => {
    const { execFile } = await import("node:child_process")
    const path = await import("node:path")
    const entry = path.resolve(__dirname, "../dist/index.mjs")
    const script = `
      import { Effect } from "effect"
      import { Gateway, GatewayClient, GatewayConfig, gatewayServices, TailscaleExposure } from ${JSON.stringify(entry)}
      const program = Effect.gen(function* () {
        const gateway = yield* Gateway
        const conn = yield* GatewayClient.connect({ url: gateway.url, token: "test-token" })
        console.log(JSON.stringify(yield* conn.request("health")))
      })
      await Effect.runPromise(Effect.scoped(program.pipe(
        Effect.provide(gatewayServices(GatewayConfig.layerTest(), { exposure: TailscaleExposure.layerTest() }))
      )))
      // Whatever is still ref'd now would keep the embedding program alive after the Gateway is gone.
      console.log(JSON.stringify(process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap")))
    `
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ["--input-type=module", "-e", script],
        { cwd: path.resolve(__dirname, ".."), timeout: 30_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr })
      )
    )
    expect(out.stderr).toBe("")
    expect(out.code).toBe(0)
    const [health, leftovers] = out.stdout.trim().split("\n")
    expect(JSON.parse(health!)).toMatchObject({ ok: true })
    expect(JSON.parse(leftovers!)).toEqual([])
  }, 30_000)

  it.effect(
    "layerConfig decodes a config object like the file: defaults fill the rest, unknown keys and unsafe combinations fail",
    () =>
      Effect.gen(function* () {
        const ok = yield* GatewayConfig.fromConfig(
          { gateway: { auth: { mode: "token", token: "x".repeat(32) } } },
          { env: {}, stateDir: "/tmp/oc-embed" }
        )
        expect(ok).toMatchObject({
          port: 18789,
          bind: "loopback",
          stateDir: "/tmp/oc-embed",
          configPath: "(in memory)"
        })
        const unknown = yield* Effect.flip(GatewayConfig.fromConfig({ gateway: { prot: 1 } } as never, { env: {} }))
        expect(unknown.message).toContain("gateway.prot: unknown key")
        const unsafe = yield* Effect.flip(
          GatewayConfig.fromConfig({ gateway: { bind: "lan", auth: { mode: "none" } } }, { env: {} })
        )
        expect(unsafe._tag).toBe("ConfigError")
      })
  )
})
