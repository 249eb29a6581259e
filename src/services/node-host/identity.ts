/**
 * The node host's device identity: an Ed25519 key pair in <stateDir>/identity/device.json (0600,
 * directory 0700), created on first use, and the device tokens Gateways issued to it
 * (<stateDir>/identity/device-auth.json, per Gateway URL). Kept light: the Gateway reads the
 * public key to recognise its own machine's node host.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto"
import * as path from "node:path"
import { readPrivateText, writePrivateJson } from "../../platform/private-file.js"
import { deviceIdOf, rawPublicKey } from "../../protocol/device.js"

export interface DeviceIdentity {
  readonly deviceId: string
  /** base64url of the raw public key. */
  readonly publicKey: string
  readonly privateKey: KeyObject
  readonly file: string
}

const identityDir = (stateDir: string) => path.join(stateDir, "identity")
const identityFile = (stateDir: string) => path.join(identityDir(stateDir), "device.json")
const tokenFile = (stateDir: string) => path.join(identityDir(stateDir), "device-auth.json")

/** The public key of this state dir's identity, or undefined when there is none. */
export const readIdentityPublicKey = (stateDir: string): string | undefined => {
  try {
    const value = JSON.parse(readPrivateText(identityFile(stateDir)) ?? "{}") as { publicKey?: unknown }
    return typeof value?.publicKey === "string" ? value.publicKey : undefined
  } catch {
    return undefined
  }
}

export const loadOrCreateIdentity = (stateDir: string): DeviceIdentity => {
  const file = identityFile(stateDir)
  const text = readPrivateText(file)
  if (text !== undefined) {
    const value = JSON.parse(text) as { privateKeyPem?: string } | null
    if (typeof value?.privateKeyPem !== "string")
      throw new Error(
        `${file} has no privateKeyPem; move it away to create a new identity (the node must then be paired again)`
      )
    const privateKey = createPrivateKey(value.privateKeyPem)
    const raw = rawPublicKey(createPublicKey(privateKey))
    return { deviceId: deviceIdOf(raw), publicKey: raw.toString("base64url"), privateKey, file }
  }
  const { publicKey, privateKey } = generateKeyPairSync("ed25519")
  const raw = rawPublicKey(publicKey)
  const identity = { deviceId: deviceIdOf(raw), publicKey: raw.toString("base64url"), privateKey, file }
  writePrivateJson(file, {
    version: 1,
    deviceId: identity.deviceId,
    publicKey: identity.publicKey,
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    createdAt: new Date().toISOString()
  })
  return identity
}

export const signPayload = (identity: DeviceIdentity, payload: string): string =>
  sign(null, Buffer.from(payload, "utf8"), identity.privateKey).toString("base64url")

interface TokenEntry {
  readonly token: string
  readonly deviceId: string
  readonly issuedAt: string
}

/** Keyed by Gateway URL: a Map, so no URL can reach an object's prototype. */
const readTokens = (stateDir: string): Map<string, TokenEntry> => {
  const tokens = new Map<string, TokenEntry>()
  try {
    const value = JSON.parse(readPrivateText(tokenFile(stateDir)) ?? "{}") as { tokens?: unknown } | null
    const raw = value?.tokens
    if (typeof raw !== "object" || raw === null) return tokens
    for (const [url, e] of Object.entries(raw)) {
      if (typeof e?.token === "string" && typeof e.deviceId === "string")
        tokens.set(url, { token: e.token, deviceId: e.deviceId, issuedAt: String(e.issuedAt ?? "") })
    }
  } catch {
    // Unreadable: the node pairs with its shared secret and is issued a new token.
  }
  return tokens
}

/** The device token a Gateway (by URL) issued to this identity, if any. */
export const loadDeviceToken = (stateDir: string, gatewayUrl: string, deviceId: string): string | undefined => {
  const entry = readTokens(stateDir).get(gatewayUrl)
  return entry !== undefined && entry.deviceId === deviceId ? entry.token : undefined
}

export const storeDeviceToken = (
  stateDir: string,
  gatewayUrl: string,
  deviceId: string,
  token: string | undefined
): void => {
  const tokens = readTokens(stateDir)
  if (token === undefined) tokens.delete(gatewayUrl)
  else tokens.set(gatewayUrl, { token, deviceId, issuedAt: new Date().toISOString() })
  writePrivateJson(tokenFile(stateDir), { version: 1, tokens: Object.fromEntries(tokens) })
}
