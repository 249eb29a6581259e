/** The core's feature hooks (src/services/gateway/hooks.ts): asked for, never imported. */
import { Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { Auth } from "../../../src/services/auth/Auth.js"
import { Binder } from "../../../src/services/binder/Binder.js"
import { GatewayConfig } from "../../../src/services/config/GatewayConfig.js"
import { Gateway } from "../../../src/services/gateway/Gateway.js"
import { DeviceAdmission, GatewayAudit, type GatewayAuditService } from "../../../src/services/gateway/hooks.js"
import { authenticated, RawClient, settingsWith, withGateway } from "../../support/gateway.js"
import { newIdentity, nodeConnect } from "../../support/node.js"

/** Gateway.layer as an embedder might compose it: config, Auth and Binder, plus `hooks`. */
const coreOnly =
  (hooks: Layer.Layer<DeviceAdmission | GatewayAudit> | Layer.Layer<never> = Layer.empty) =>
  () =>
    Gateway.layer.pipe(
      Layer.provide(hooks),
      Layer.provideMerge(Layer.mergeAll(Auth.layer, Binder.layer)),
      Layer.provideMerge(Layer.succeed(GatewayConfig, settingsWith()))
    )

describe("Gateway hooks", { timeout: 30_000 }, () => {
  it("without DeviceAdmission, a signed node is refused with a message that says how to compose pairing; operators still sign in", async () => {
    await withGateway(
      {},
      async (gw) => {
        const { res } = await nodeConnect(gw.url, newIdentity())
        expect(res.ok).toBe(false)
        expect(res.error.code).toBe("UNAVAILABLE")
        expect(res.error.message).toContain("provide DeviceAdmission")
        const op = await authenticated(gw.url)
        op.ws.close()
      },
      coreOnly()
    )
  })

  it("asks DeviceAdmission about nodes, and tells GatewayAudit of start, sign-ins, refusals and stop", async () => {
    const heard: Array<string> = []
    const audit: GatewayAuditService = {
      started: ({ mode }) => heard.push(`started ${mode}`),
      stopped: () => heard.push("stopped"),
      signedIn: (conn) => heard.push(`signedIn ${conn.role}`),
      refused: (_conn, r) => heard.push(`refused ${r.code}`)
    }
    const admitted: Array<string> = []
    const admission = Layer.succeed(DeviceAdmission, {
      forGateway: () => ({
        checkDeviceToken: () => Effect.succeed({ ok: false }),
        admitNode: (_conn, device) =>
          Effect.sync(() => {
            admitted.push(device.deviceId)
            return { deviceToken: "from-the-hook" }
          })
      })
    })
    const id = newIdentity()
    await withGateway(
      {},
      async (gw) => {
        const { client, res } = await nodeConnect(gw.url, id)
        expect(res.ok).toBe(true)
        expect(res.payload.auth.deviceToken).toBe("from-the-hook")
        expect(admitted).toEqual([id.deviceId])
        client.ws.close()
        const bad = await RawClient.open(gw.url)
        await bad.event("connect.challenge")
        expect((await bad.connect({ auth: { token: "wrong" } })).ok).toBe(false)
      },
      coreOnly(Layer.mergeAll(admission, Layer.succeed(GatewayAudit, audit)))
    )
    expect(heard).toEqual(["started token", "signedIn node", "refused AUTH_TOKEN_MISMATCH", "stopped"])
  })
})
