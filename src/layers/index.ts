/**
 * The composition root: GatewayConfig, TailscaleCli (over ProcessRunner), LogBuffer -> Auth, Binder, Sessions, Pairing,
 * AuditLog -> the Gateway core (given its hooks: pairing admission, audit entries, tailnet names)
 * -> the features and their method layers. Layers acquire in that order and release in reverse, so
 * the Tailscale route is withdrawn first, then clients are told "shutdown" and closed, then the
 * listeners close.
 */
import { Effect, Layer } from "effect"
import { TAILSCALE_TUNING } from "../config/settings.js"
import { ProcessRunner } from "../platform/process-runner.js"
import { DoctorMethods } from "../services/doctor/methods.js"
import { CompatMethods } from "../services/compat/methods.js"
import { LogBuffer } from "../services/compat/LogBuffer.js"
import { AgentRuntime } from "../services/agent/AgentRuntime.js"
import { AgentMethods } from "../services/agent/methods.js"
import { SessionMethods } from "../services/agent/session-methods.js"
import { DeviceAccess } from "../services/pairing/devices-methods.js"
import { SecretReload } from "../services/secret-reload/secret-reload.js"
import { SignInCodeMethods } from "../services/sign-in/methods.js"
import { AuditLog } from "../services/audit-log/AuditLog.js"
import { AuditGateway } from "../services/audit-log/gateway-audit.js"
import { Auth } from "../services/auth/Auth.js"
import { Binder } from "../services/binder/Binder.js"
import { Gateway } from "../services/gateway/api.js"
import { GatewayConfig, type LoadOptions } from "../services/config/GatewayConfig.js"
import { Nodes } from "../services/nodes/Nodes.js"
import { NodesMethods } from "../services/nodes/methods.js"
import { PairingAdmission } from "../services/pairing/admission.js"
import { Pairing } from "../services/pairing/Pairing.js"
import { Sessions } from "../services/sessions/Sessions.js"
import { TailscaleCli } from "../services/tailscale/TailscaleCli.js"
import { TailscaleHostNames } from "../services/tailscale-exposure/host-names.js"
import { type ExposureConflict, TailscaleExposure } from "../services/tailscale-exposure/TailscaleExposure.js"

/** Layers that replace the live ones, e.g. in an embedder's tests. */
export interface GatewayOverrides<E2, R2, E3, R3> {
  /** The Tailscale exposure (e.g. TailscaleExposure.layerTest). */
  readonly exposure?: Layer.Layer<TailscaleExposure, E2, R2 | Gateway | GatewayConfig | TailscaleCli>
  /** The agent runtime (e.g. AgentRuntime.layerWith(myProvider)). */
  readonly agent?: Layer.Layer<AgentRuntime, E3, R3 | Gateway | Sessions | GatewayConfig>
  /** The boundary that runs the `tailscale` binary (e.g. TailscaleCli.layerTest()). */
  readonly tailscale?: Layer.Layer<TailscaleCli>
}

/** `tailscale` run as a real process, through the one process boundary, as gateway.tailscale says. */
const TailscaleLive = Layer.unwrapEffect(
  Effect.map(GatewayConfig, (settings) =>
    TailscaleCli.layerProcesses({
      ...(settings.tailscale.binary === undefined ? {} : { binary: settings.tailscale.binary }),
      // PATH to find it on: the caller's environment, if it passed one (else the standard places).
      ...(settings.env === undefined ? {} : { env: settings.env }),
      timeoutMs: settings.tailscale.timeoutMs ?? TAILSCALE_TUNING.timeoutMs
    })
  )
).pipe(Layer.provide(ProcessRunner.layer))

/** Every Gateway service over a given GatewayConfig layer. */
export const gatewayServices = <E, R, E2 = never, R2 = never, E3 = never, R3 = never>(
  config: Layer.Layer<GatewayConfig, E, R>,
  overrides: GatewayOverrides<E2, R2, E3, R3> = {}
) =>
  Layer.mergeAll(CompatMethods.layer, AgentMethods.layer, SessionMethods.layer).pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        overrides.exposure ??
          (TailscaleExposure.layer as Layer.Layer<
            TailscaleExposure,
            E2 | ExposureConflict,
            R2 | Gateway | GatewayConfig | TailscaleCli
          >),
        overrides.agent ?? AgentRuntime.layer,
        NodesMethods.layer.pipe(Layer.provideMerge(Nodes.layer)),
        DoctorMethods.layer,
        DeviceAccess.layer,
        SecretReload.layer,
        SignInCodeMethods.layer
      )
    ),
    // The features the core asks for (gateway/hooks.ts): pairing admission, audit entries, tailnet names.
    Layer.provideMerge(
      Gateway.layer.pipe(Layer.provide(Layer.mergeAll(PairingAdmission, AuditGateway, TailscaleHostNames)))
    ),
    Layer.provideMerge(Layer.mergeAll(Auth.layer, Binder.layer, Sessions.layer, Pairing.layer, AuditLog.layer)),
    // LogBuffer first: its logger then hears every service built above it (logs.tail).
    // The config layer is built once: Layers are shared by reference within one graph.
    Layer.provideMerge(
      Layer.mergeAll(config, overrides.tailscale ?? TailscaleLive.pipe(Layer.provide(config)), LogBuffer.layer)
    )
  )

/**
 * The live Gateway, reading the config file and this process's environment like `openclaw gateway
 * run` (the composition root is where the environment is read; pass `env` to use another).
 */
export const GatewayLive = (options: Partial<LoadOptions> = {}) =>
  gatewayServices(GatewayConfig.layer({ ...options, env: options.env ?? process.env }))
