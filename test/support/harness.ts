/**
 * The test harness: layers a test composes instead of building a Gateway by hand.
 *
 * - `GatewayTest`: every Gateway service, on 127.0.0.1 port 0, with Tailscale exposure mocked, plus
 *   `TestClient`: a client already connected to it with every operator scope (in the style of
 *   @effect/platform-node's `NodeHttpServer.layerTest`). `GatewayTestWith({...})` swaps boundaries.
 * - Partial mocks for the boundaries (Tailscale, ssh, processes by argv, the agent's model provider): a
 *   call the test did not provide dies loudly, naming the call, instead of answering something plausible.
 *
 *   it.layer(GatewayTest)("my feature", (it) => {
 *     it.effect("answers", () => Effect.gen(function* () {
 *       const client = yield* TestClient
 *       expect(yield* client.request("health")).toMatchObject({ ok: true })
 *     }))
 *   })
 */
import { Context, Effect, Layer } from "effect"
import {
  type AgentRuntime,
  type ExposureStatus,
  Gateway,
  GatewayClient,
  GatewayConfig,
  type GatewaySettings,
  gatewayServices,
  type Sessions,
  SshTunnel,
  type SshTunnelService,
  TailscaleCli,
  type TailscaleCliService,
  TailscaleExposure
} from "../../src/index.js"
import type { Provider } from "../../src/services/agent/AgentRuntime.js"
import { ProcessRunner, type ScriptedProcess } from "../../src/platform/process-runner.js"

/** A connected client with every operator scope, closed when the layer is released. */
export class TestClient extends Context.Tag("test/TestClient")<TestClient, GatewayClient.GatewayConnection>() {}

export const ALL_OPERATOR_SCOPES = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.pairing",
  "operator.approvals"
]

const unprovided = (service: string, call: string) =>
  Effect.dieMessage(`${service}.${call} was called, but the test's mock does not provide it`)

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

export { exits, type ScriptedProcess } from "../../src/platform/process-runner.js"

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
  readonly settings?: Partial<GatewaySettings>
  readonly exposure?: ExposureStatus
  readonly tailscale?: Layer.Layer<TailscaleCli>
  readonly agent?: Layer.Layer<AgentRuntime, never, Gateway | Sessions | GatewayConfig>
}

/** The Gateway's services plus a connected TestClient; see the module comment. */
export const GatewayTestWith = (options: GatewayTestOptions = {}) => {
  const services = gatewayServices(GatewayConfig.layerTest(options.settings), {
    exposure: TailscaleExposure.layerTest(options.exposure ?? { mode: "off", state: "off" }),
    tailscale: options.tailscale ?? mockTailscale({}),
    ...(options.agent === undefined ? {} : { agent: options.agent })
  })
  const client = Layer.scoped(
    TestClient,
    Effect.flatMap(Gateway, (gateway) =>
      GatewayClient.connect({
        url: gateway.url,
        token: "test-token",
        scopes: ALL_OPERATOR_SCOPES,
        client: { id: "test-client", mode: "test" }
      })
    )
  )
  return Layer.provideMerge(client, services)
}

export const GatewayTest = GatewayTestWith()
