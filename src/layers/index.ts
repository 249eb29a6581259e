/**
 * The composed application: GatewayConfig, TailscaleCli -> Auth, Pairing, Binder -> Gateway -> Nodes, TailscaleExposure.
 * Layers acquire in that order and release in reverse, so the Tailscale route is withdrawn
 * first, then clients are told "shutdown" and closed, then the listeners close.
 */
import { Layer } from "effect"
import { Auth } from "../services/Auth.js"
import { Binder } from "../services/Binder.js"
import { Gateway } from "../services/Gateway.js"
import { GatewayConfig, type LoadOptions } from "../services/GatewayConfig.js"
import { Nodes } from "../services/Nodes.js"
import { Pairing } from "../services/Pairing.js"
import { TailscaleCli } from "../services/TailscaleCli.js"
import { type ExposureConflict, TailscaleExposure } from "../services/TailscaleExposure.js"

/**
 * Gateway, Auth, Binder and TailscaleExposure over a given GatewayConfig layer. `exposure`
 * replaces the Tailscale layer (e.g. TailscaleExposure.layerTest in an embedder's tests);
 * `tailscale` replaces the boundary that runs the `tailscale` binary (e.g. TailscaleCli.layerTest()).
 */
export const gatewayServices = <E, R, E2 = never, R2 = never>(
  config: Layer.Layer<GatewayConfig, E, R>,
  exposure?: Layer.Layer<TailscaleExposure, E2, R2 | Gateway | GatewayConfig | TailscaleCli>,
  tailscale: Layer.Layer<TailscaleCli> = TailscaleCli.layer
) =>
  (exposure ?? (TailscaleExposure.layer as Layer.Layer<TailscaleExposure, E2 | ExposureConflict, R2 | Gateway | GatewayConfig | TailscaleCli>)).pipe(
    Layer.provideMerge(Nodes.layer),
    Layer.provideMerge(Gateway.layer),
    Layer.provideMerge(Layer.mergeAll(Auth.layer, Binder.layer, Pairing.layer)),
    Layer.provideMerge(Layer.merge(config, tailscale))
  )

/** The live Gateway, reading the config file and environment like `openclaw gateway run`. */
export const GatewayLive = (options: LoadOptions = {}) => gatewayServices(GatewayConfig.layer(options))
