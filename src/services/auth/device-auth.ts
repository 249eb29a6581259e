/**
 * Verifies the device identity a connect request carries (shared/protocol.md): the id is the
 * SHA-256 of the public key, the signature covers this connection's v3 string, signedAt is fresh
 * and the nonce is this connection's challenge. Each failure has its own DEVICE_AUTH_* code.
 */
import { verify } from "node:crypto"
import type { ConnectParams } from "../../protocol/frames.js"
import {
  DEVICE_SIGNATURE_SKEW_MS,
  deviceAuthPayload,
  deviceAuthPayloadV2,
  deviceIdOf,
  publicKeyFromRaw,
  signatureToken
} from "../../protocol/device.js"

export type DeviceAuthCode =
  | "DEVICE_AUTH_INVALID"
  | "DEVICE_AUTH_DEVICE_ID_MISMATCH"
  | "DEVICE_AUTH_SIGNATURE_EXPIRED"
  | "DEVICE_AUTH_NONCE_REQUIRED"
  | "DEVICE_AUTH_NONCE_MISMATCH"
  | "DEVICE_AUTH_SIGNATURE_INVALID"
  | "DEVICE_AUTH_PUBLIC_KEY_INVALID"

export interface VerifiedDevice {
  readonly deviceId: string
  /** base64url of the raw key. */
  readonly publicKey: string
}

export type DeviceVerdict =
  | { readonly ok: true; readonly device: VerifiedDevice }
  | { readonly ok: false; readonly code: DeviceAuthCode; readonly message: string }

const B64URL = /^[A-Za-z0-9_-]+$/

const refuse = (code: DeviceAuthCode, message: string): DeviceVerdict => ({
  ok: false,
  code,
  message: `device identity rejected: ${message}`
})

/** A node that sent no device identity at all. */
export const missingDevice = refuse(
  "DEVICE_AUTH_INVALID",
  "a node must send a device identity (device {id, publicKey, signature, signedAt, nonce})"
) as Extract<DeviceVerdict, { ok: false }>

export const verifyDevice = (
  params: ConnectParams,
  role: string,
  challengeNonce: string,
  now: number
): DeviceVerdict => {
  const device = params.device
  if (device === undefined) return missingDevice
  const raw = B64URL.test(device.publicKey) ? Buffer.from(device.publicKey, "base64url") : Buffer.alloc(0)
  if (raw.length !== 32)
    return refuse("DEVICE_AUTH_PUBLIC_KEY_INVALID", "publicKey must be the base64url raw 32-byte Ed25519 key")
  let key
  try {
    key = publicKeyFromRaw(raw)
  } catch {
    return refuse("DEVICE_AUTH_PUBLIC_KEY_INVALID", "publicKey is not an Ed25519 key")
  }
  if (device.id !== deviceIdOf(raw))
    return refuse("DEVICE_AUTH_DEVICE_ID_MISMATCH", "device.id is not the SHA-256 of its public key")
  if (device.nonce.length === 0)
    return refuse("DEVICE_AUTH_NONCE_REQUIRED", "device.nonce must be the connect.challenge nonce")
  if (device.nonce !== challengeNonce)
    return refuse("DEVICE_AUTH_NONCE_MISMATCH", "device.nonce is not this connection's connect.challenge nonce")
  if (!Number.isFinite(device.signedAt) || Math.abs(now - device.signedAt) > DEVICE_SIGNATURE_SKEW_MS) {
    return refuse(
      "DEVICE_AUTH_SIGNATURE_EXPIRED",
      `signedAt is more than ${DEVICE_SIGNATURE_SKEW_MS / 1000} s from the Gateway's clock (check the node's clock)`
    )
  }
  const fields = {
    deviceId: device.id,
    clientId: params.client.id,
    clientMode: params.client.mode,
    role,
    scopes: params.scopes ?? [],
    signedAt: device.signedAt,
    token: signatureToken(params.auth),
    nonce: device.nonce,
    platform: params.client.platform,
    deviceFamily: params.client.deviceFamily
  }
  const signature = B64URL.test(device.signature) ? Buffer.from(device.signature, "base64url") : Buffer.alloc(0)
  const signs = (payload: string) => {
    try {
      return signature.length === 64 && verify(null, Buffer.from(payload, "utf8"), key, signature)
    } catch {
      return false
    }
  }
  // v3 first (our node host, OpenClaw's current clients), then v2 (OpenClaw's Control UI), as OpenClaw's Gateway does.
  const valid = signs(deviceAuthPayload(fields)) || signs(deviceAuthPayloadV2(fields))
  if (!valid) return refuse("DEVICE_AUTH_SIGNATURE_INVALID", "the signature does not match this connect request")
  return { ok: true, device: { deviceId: device.id, publicKey: device.publicKey } }
}
