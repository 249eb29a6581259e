/** Helpers for tests: an in-process Gateway on a random port, and a raw protocol socket. */
import { Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import WebSocket from "ws"
import { GatewayServerTestWith } from "./harness.js"
import type { MethodDef } from "../../src/services/gateway/rpc.js"
import { Gateway, type GatewayService } from "../../src/services/gateway/Gateway.js"
import { type GatewaySettings, testSettings } from "../../src/services/config/GatewayConfig.js"

export const TOKEN = "test-token-0123456789abcdef"

export const settingsWith = (overrides: Partial<GatewaySettings> = {}): GatewaySettings => {
  const base = testSettings()
  return { ...base, auth: { ...base.auth, token: Redacted.make(TOKEN) }, ...overrides }
}

/**
 * The shipped harness's Gateway without a client (GatewayServerTestWith): every service in-process
 * on port 0, Tailscale mocked (any call dies, naming itself), with these settings.
 */
export const gatewayLayer = (overrides: Partial<GatewaySettings> = {}) =>
  GatewayServerTestWith({ settings: settingsWith(overrides) })

export const gatewayUrl = Effect.map(Gateway, (g) => g.url)

/** A raw WebSocket that records every frame and its close, for protocol-level assertions. */
export class RawClient {
  readonly frames: Array<any> = []
  closed: { code: number; reason: string } | undefined
  private waiters: Array<() => void> = []

  constructor(readonly ws: WebSocket) {
    ws.on("message", (d) => {
      this.frames.push(JSON.parse(d.toString()))
      this.wake()
    })
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      this.wake()
    })
    ws.on("error", () => {})
  }

  static open(url: string, options: WebSocket.ClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, options)
    const client = new RawClient(ws)
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client))
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      ws.once("error", reject)
    })
  }

  private wake() {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Waits until `predicate` holds (checked after every frame/close), or fails after timeoutMs. */
  waitFor<T>(predicate: () => T | undefined, timeoutMs = 5_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting")), timeoutMs)
      const check = () => {
        const v = predicate()
        if (v !== undefined && v !== false) {
          clearTimeout(timer)
          resolve(v)
        } else this.waiters.push(check)
      }
      check()
    })
  }

  response(id: string) {
    return this.waitFor(() => this.frames.find((f) => f.type === "res" && f.id === id))
  }

  event(name: string) {
    return this.waitFor(() => this.frames.find((f) => f.type === "event" && f.event === name))
  }

  waitClosed(timeoutMs?: number) {
    return this.waitFor(() => this.closed, timeoutMs)
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame))
  }

  connect(params: Record<string, unknown> = {}, id = "c1") {
    this.send({ type: "req", id, method: "connect", params: connectParams(params) })
    return this.response(id)
  }

  async request(method: string, params?: unknown, id = `r${this.frames.length}-${Math.random()}`) {
    this.send({ type: "req", id, method, params })
    return this.response(id)
  }
}

export const connectParams = (overrides: Record<string, unknown> = {}) => ({
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: "test", version: "1.0.0", platform: "linux", mode: "test" },
  role: "operator",
  scopes: ["operator.read"],
  auth: { token: TOKEN },
  ...overrides
})

/** Opens a socket and completes the handshake. */
export const authenticated = async (url: string, params: Record<string, unknown> = {}) => {
  const client = await RawClient.open(url)
  await client.event("connect.challenge")
  const res = await client.connect(params)
  if (!res.ok) throw new Error(`connect failed: ${JSON.stringify(res.error)}`)
  return client
}

/** Builds the in-process Gateway, runs `body`, and always releases the layer's scope afterwards. */
export const withGateway = async <A>(
  overrides: Partial<GatewaySettings>,
  body: (gateway: GatewayService) => Promise<A>,
  layer: (o: Partial<GatewaySettings>) => Layer.Layer<any, any, never> = gatewayLayer
): Promise<A> => {
  const scope = Effect.runSync(Scope.make())
  const context = await Effect.runPromise(Layer.buildWithScope(layer(overrides), scope))
  try {
    return await body(Context.get(context as Context.Context<Gateway>, Gateway))
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** Registers a method on a running Gateway until the returned `close` is called. */
export const registerScoped = (gw: GatewayService, name: string, def: MethodDef) => {
  const scope = Effect.runSync(Scope.make())
  Effect.runSync(Scope.extend(gw.registerMethod(name, def), scope))
  return { close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
