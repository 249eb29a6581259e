/** Which signed strings a device identity may sign: v3 (current clients) and v2 (OpenClaw's Control UI), nothing else. */
import { sign } from "node:crypto"
import { describe, expect, it } from "vitest"
import { deviceAuthPayload, deviceAuthPayloadV2, type DeviceAuthFields } from "../../../src/protocol/device.js"
import type { ConnectParams } from "../../../src/protocol/frames.js"
import { verifyDevice } from "../../../src/services/auth/device-auth.js"
import { newIdentity } from "../../support/node.js"

const NONCE = "challenge-nonce-1"
const NOW = 1_800_000_000_000
const id = newIdentity()
const fields: DeviceAuthFields = {
  deviceId: id.deviceId,
  clientId: "openclaw-control-ui",
  clientMode: "webchat",
  role: "operator",
  scopes: ["operator.read"],
  signedAt: NOW,
  token: "a-token",
  nonce: NONCE,
  platform: "linux",
  deviceFamily: undefined
}

const connectSigning = (payload: string): ConnectParams => ({
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: fields.clientId, version: "1", platform: "linux", mode: "webchat" },
  scopes: fields.scopes,
  auth: { token: "a-token" },
  device: {
    id: id.deviceId,
    publicKey: id.publicKey,
    signature: sign(null, Buffer.from(payload, "utf8"), id.privateKey).toString("base64url"),
    signedAt: NOW,
    nonce: NONCE
  }
})

describe("device signatures", () => {
  it("the v3 string and the v2 string both verify; v2 is the v3 fields without the device metadata", () => {
    expect(deviceAuthPayloadV2(fields)).toBe(
      `v2|${id.deviceId}|openclaw-control-ui|webchat|operator|operator.read|${NOW}|a-token|${NONCE}`
    )
    expect(deviceAuthPayload(fields)).toBe(`v3|${deviceAuthPayloadV2(fields).slice(3)}|linux|`)
    for (const payload of [deviceAuthPayload(fields), deviceAuthPayloadV2(fields)]) {
      expect(verifyDevice(connectSigning(payload), "operator", NONCE, NOW)).toMatchObject({ ok: true })
    }
  })

  it("a v2 string signed for another role, or any other version, does not", () => {
    for (const payload of [
      deviceAuthPayloadV2({ ...fields, role: "node" }),
      deviceAuthPayloadV2(fields).replace(/^v2/, "v1")
    ]) {
      expect(verifyDevice(connectSigning(payload), "operator", NONCE, NOW)).toMatchObject({
        ok: false,
        code: "DEVICE_AUTH_SIGNATURE_INVALID"
      })
    }
  })
})
