/** The tailnet's names for this machine, for the Gateway's DNS-rebinding guard (HostDiscovery). */
import { Effect, Layer, Runtime } from "effect"
import { GatewayConfig } from "../config/GatewayConfig.js"
import { HostDiscovery } from "../gateway/api.js"
import { TailscaleCli } from "../tailscale/TailscaleCli.js"

/** Asked only when Tailscale is in use. Needs GatewayConfig and TailscaleCli. */
export const TailscaleHostNames = Layer.effect(
  HostDiscovery,
  Effect.gen(function* () {
    const settings = yield* GatewayConfig
    const tailscale = yield* TailscaleCli
    const runtime = yield* Effect.runtime<never>()
    const inUse = settings.tailscale.mode !== "off" || settings.auth.allowTailscale || settings.bind === "tailnet"
    if (!inUse) return { discover: undefined }
    const status = tailscale.status.pipe(
      Effect.map((st): ReadonlyArray<string> => [st.dnsName, ...st.tailscaleIps].filter((n) => n !== "")),
      Effect.orElseSucceed((): ReadonlyArray<string> => [])
    )
    return { discover: () => Runtime.runPromise(runtime)(status) }
  })
)
