/**
 * `openclaw-gateway-effect/testing`: the layers a test composes instead of building a Gateway by
 * hand. No test runner is imported here: the layers work with @effect/vitest's `it.layer`, or with
 * any `Effect.provide`.
 *
 * - `GatewayTest`: every Gateway service on 127.0.0.1 port 0, state in memory, Tailscale exposure
 *   mocked, plus `TestClient`: a client already connected with every operator scope.
 *   `GatewayTestWith({...})` swaps boundaries.
 * - `fakeTailscale`: a Tailscale that remembers its Serve and Funnel routes like the real CLI.
 * - Partial mocks for the boundaries (Tailscale, ssh, processes by argv, the agent's model
 *   provider): a call the test did not provide dies loudly, naming the call, instead of answering
 *   something plausible.
 *
 *   it.layer(GatewayTest)("my feature", (it) => {
 *     it.effect("answers", () => Effect.gen(function* () {
 *       const client = yield* TestClient
 *       expect((yield* client.request("health")).ok).toBe(true)
 *     }))
 *   })
 *
 * An app's own method group: provide its layer over GatewayTest
 * (`it.layer(MyMethods.layer.pipe(Layer.provideMerge(GatewayTest)))`) and call it typed through
 * `testClientFor(MyGroup)`.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import type { GatewayConnection, GroupClient } from "./client/api.js"
import { connect, typed } from "./client/api.js"
import type { AnyMethodGroup } from "./protocol/contract.js"
import { ProcessRunner, type ScriptedProcess } from "./platform/process-runner.js"
import type { AgentRuntime, Provider } from "./services/agent/AgentRuntime.js"
import { GatewayConfig, type GatewaySettings } from "./services/config/GatewayConfig.js"
import { Gateway } from "./services/gateway/api.js"
import { gatewayServices } from "./layers/index.js"
import type { Sessions } from "./services/sessions/Sessions.js"
import { SshTunnel, type SshTunnelService } from "./services/ssh/SshTunnel.js"
import { TailscaleCli, type TailscaleCliService } from "./services/tailscale/TailscaleCli.js"
import { type ExposureStatus, TailscaleExposure } from "./services/tailscale-exposure/TailscaleExposure.js"

export { exits, type ScriptedProcess } from "./platform/process-runner.js"

/** A client connected to the GatewayTest Gateway with every operator scope, closed when the layer is released. */
export class TestClient extends Context.Tag("openclaw/testing/TestClient")<TestClient, GatewayConnection>() {}

/**
 * The TestClient's calls typed by a method group (an app's own): params and result from its contracts.
 *
 *   const client = yield* testClientFor(MyGroup)
 *   const answer = yield* client.request("my.method", { name: "x" })
 */
export const testClientFor = <G extends AnyMethodGroup>(group: G): Effect.Effect<GroupClient<G>, never, TestClient> =>
  Effect.map(TestClient, (connection) => typed(group, connection))

/** The token of GatewayConfig.layerTest(), which GatewayTest runs with. */
export const TEST_TOKEN = "test-token"

export const ALL_OPERATOR_SCOPES: ReadonlyArray<string> = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.pairing",
  "operator.approvals"
]

const unprovided = (service: string, call: string) =>
  Effect.dieMessage(`${service}.${call} was called, but the test's mock does not provide it`)

/**
 * A Tailscale that remembers its routes like the real CLI: `enable` sets the "/" route on a port
 * (Serve, or Funnel), `disable` removes it, `serveStatus` reports them. `partial` replaces any
 * call; an `enable` or `disable` given there decides whether the call succeeds, and what
 * succeeded is still remembered (TailscaleCli.layerTest).
 */
export const fakeTailscale = (partial: Partial<TailscaleCliService> = {}): Layer.Layer<TailscaleCli> =>
  TailscaleCli.layerTest(partial)

/** TailscaleCli where only the given calls answer; any other call dies naming itself. */
export const mockTailscale = (partial: Partial<TailscaleCliService>): Layer.Layer<TailscaleCli> =>
  Layer.succeed(TailscaleCli, {
    status: unprovided("TailscaleCli", "status"),
    whois: () => unprovided("TailscaleCli", "whois"),
    serveStatus: unprovided("TailscaleCli", "serveStatus"),
    enable: () => unprovided("TailscaleCli", "enable"),
    disable: () => unprovided("TailscaleCli", "disable"),
    ...partial
  })

/** SshTunnel whose `open` is the given one, or dies when none is given. */
export const mockSsh = (partial: Partial<SshTunnelService>): Layer.Layer<SshTunnel> =>
  SshTunnel.layerTest({ open: () => unprovided("SshTunnel", "open"), ...partial })

/**
 * ProcessRunner answering by argv: `script` returns what the program does (`exits({ stdout })`,
 * `Effect.never`, a delay then an exit, ...), or undefined for an argv the test did not expect,
 * which then dies naming the argv. Timeouts run on Effect's Clock, so TestClock drives them.
 * TailscaleCli.layerProcesses({ binary: "tailscale" }) and SshTunnel.layerProcesses() run over it.
 */
export const mockProcesses = (
  script: (argv: ReadonlyArray<string>) => ScriptedProcess | undefined
): Layer.Layer<ProcessRunner> => ProcessRunner.layerTest(script)

/** A model provider that streams the given chunks (or throws the given error) for every turn. */
export const mockProvider = (reply: ReadonlyArray<string> | Error): Provider => ({
  kind: "mock",
  label: "mock provider (test)",
  stream: async function* () {
    if (reply instanceof Error) throw reply
    for (const chunk of reply) yield chunk
  }
})

export interface GatewayTestOptions {
  /** Over GatewayConfig.layerTest()'s: loopback, port 0, token "test-token", state in memory. */
  readonly settings?: Partial<GatewaySettings>
  /** What TailscaleExposure reports (default: off). */
  readonly exposure?: ExposureStatus
  /** Default: mockTailscale({}), where every call dies. */
  readonly tailscale?: Layer.Layer<TailscaleCli>
  readonly agent?: Layer.Layer<AgentRuntime, never, Gateway | Sessions | GatewayConfig>
}

/**
 * The Gateway's services alone, without a client: for tests that open their own sockets (raw
 * frames, handshakes, several clients) and would see a TestClient in presence and counts.
 */
export const GatewayServerTestWith = (options: GatewayTestOptions = {}) =>
  gatewayServices(GatewayConfig.layerTest(options.settings), {
    exposure: TailscaleExposure.layerTest(options.exposure ?? { mode: "off", state: "off" }),
    tailscale: options.tailscale ?? mockTailscale({}),
    ...(options.agent === undefined ? {} : { agent: options.agent })
  })

/** The Gateway's services plus a connected TestClient; see the module comment. */
export const GatewayTestWith = (options: GatewayTestOptions = {}) => {
  const client = Layer.scoped(
    TestClient,
    Effect.gen(function* () {
      const gateway = yield* Gateway
      // Signs in with the secret the settings give (TEST_TOKEN unless a test set its own).
      const { auth } = yield* GatewayConfig
      const secret = auth.mode === "password" ? auth.password : auth.token
      return yield* connect({
        url: gateway.url,
        ...(auth.mode === "password"
          ? { password: secret === undefined ? "" : Redacted.value(secret) }
          : { token: secret === undefined ? TEST_TOKEN : Redacted.value(secret) }),
        scopes: ALL_OPERATOR_SCOPES,
        client: { id: "test-client", mode: "test" }
      })
    })
  )
  return Layer.provideMerge(client, GatewayServerTestWith(options))
}

/** Every Gateway service on port 0 with a connected TestClient, for `it.layer(GatewayTest)`. */
export const GatewayTest = GatewayTestWith()
