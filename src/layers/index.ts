/**
 * The composed application: GatewayConfig -> Auth, Binder, Sessions -> Gateway -> TailscaleExposure, AgentRuntime.
 * Layers acquire in that order and release in reverse, so the Tailscale route is withdrawn
 * first, then clients are told "shutdown" and closed, then the listeners close.
 */
import { Layer } from "effect"
import { AgentRuntime } from "../services/AgentRuntime.js"
import { Auth } from "../services/Auth.js"
import { Binder } from "../services/Binder.js"
import { Gateway } from "../services/Gateway.js"
import { GatewayConfig, type LoadOptions } from "../services/GatewayConfig.js"
import { Sessions } from "../services/Sessions.js"
import { TailscaleExposure } from "../services/TailscaleExposure.js"

/**
 * Gateway, Auth, Binder and TailscaleExposure over a given GatewayConfig layer. `exposure`
 * replaces the Tailscale layer (e.g. TailscaleExposure.layerTest in an embedder's tests); `agent`
 * replaces the agent runtime (e.g. AgentRuntime.layerWith(myProvider)).
 */
export const gatewayServices = <E, R, E2 = never, R2 = never, E3 = never, R3 = never>(
  config: Layer.Layer<GatewayConfig, E, R>,
  exposure?: Layer.Layer<TailscaleExposure, E2, R2 | Gateway | GatewayConfig>,
  agent?: Layer.Layer<AgentRuntime, E3, R3 | Gateway | Sessions | GatewayConfig>
) =>
  Layer.mergeAll(exposure ?? TailscaleExposure.layer, agent ?? AgentRuntime.layer).pipe(
    Layer.provideMerge(Gateway.layer),
    Layer.provideMerge(Layer.mergeAll(Auth.layer, Binder.layer, Sessions.layer)),
    Layer.provideMerge(config)
  )

/** The live Gateway, reading the config file and environment like `openclaw gateway run`. */
export const GatewayLive = (options: LoadOptions = {}) => gatewayServices(GatewayConfig.layer(options))
