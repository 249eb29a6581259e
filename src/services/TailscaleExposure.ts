/**
 * TailscaleExposure: publishes the Gateway through Tailscale Serve or Funnel as a scoped resource
 * (the route is withdrawn on release when resetOnExit is set).
 *
 * This build has the place in the service graph and the status it reports; driving the
 * `tailscale` CLI is not implemented yet, so a configured serve/funnel mode is reported as
 * failed (with the reason) rather than pretended.
 */
import { Context, Effect, Layer } from "effect"
import type { TailscaleMode } from "../config/schema.js"
import { Gateway } from "./Gateway.js"
import { GatewayConfig } from "./GatewayConfig.js"

export interface ExposureStatus {
  readonly mode: TailscaleMode
  readonly state: "off" | "active" | "failed"
  readonly url?: string
  readonly wsUrl?: string
  readonly reason?: string
}

export interface TailscaleExposureService {
  readonly status: Effect.Effect<ExposureStatus>
}

export class TailscaleExposure extends Context.Tag("openclaw/TailscaleExposure")<TailscaleExposure, TailscaleExposureService>() {
  static layer = Layer.scoped(
    TailscaleExposure,
    Effect.gen(function* () {
      const settings = yield* GatewayConfig
      const gateway = yield* Gateway
      const current: ExposureStatus =
        settings.tailscale.mode === "off"
          ? { mode: "off", state: "off" }
          : {
              mode: settings.tailscale.mode,
              state: "failed",
              reason: `Tailscale ${settings.tailscale.mode} is not supported by this build yet; the Gateway serves on loopback only (use an SSH tunnel, or set gateway.tailscale.mode to "off")`
            }
      if (current.state === "failed") yield* Effect.logWarning(current.reason)
      yield* gateway.addStatusSection("exposure", () => current)
      return { status: Effect.succeed(current) }
    })
  )

  /**
   * A fixed status, for tests and for embedders that expose the Gateway by other means; it
   * shows in `status` like the real one. `onRelease` observes when the scope closes.
   */
  static layerTest = (status: ExposureStatus = { mode: "off", state: "off" }, onRelease: () => void = () => {}) =>
    Layer.scoped(
      TailscaleExposure,
      Effect.gen(function* () {
        const gateway = yield* Gateway
        yield* Effect.addFinalizer(() => Effect.sync(onRelease))
        yield* gateway.addStatusSection("exposure", () => status)
        return { status: Effect.succeed(status) }
      })
    )
}
