/**
 * Device identity of shared/protocol.md: an Ed25519 key pair; device.id is the hex SHA-256 of the
 * raw 32-byte public key, publicKey its base64url, and the signature covers the v3 string below.
 * Shared by the Gateway (verification) and the node host (signing).
 */
import { createHash, createPublicKey, type KeyObject } from "node:crypto"

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex")

/** How far signedAt may be from the server clock. */
export const DEVICE_SIGNATURE_SKEW_MS = 120_000

/** ASCII lower-casing of trimmed metadata, as OpenClaw's clients normalise it. */
export const normaliseDeviceMetadata = (value: string | undefined): string =>
  (value ?? "").trim().replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32))

export interface DeviceAuthFields {
  readonly deviceId: string
  readonly clientId: string
  readonly clientMode: string
  readonly role: string
  readonly scopes: ReadonlyArray<string>
  readonly signedAt: number
  /** auth.token, else auth.deviceToken, else empty. */
  readonly token: string | undefined
  readonly nonce: string
  readonly platform: string | undefined
  readonly deviceFamily: string | undefined
}

/** The fields both signed strings share, in order: v2 is these alone, v3 adds the device metadata. */
const sharedFields = (f: DeviceAuthFields): Array<string> => [
  f.deviceId,
  f.clientId,
  f.clientMode,
  f.role,
  f.scopes.join(","),
  String(f.signedAt),
  f.token ?? "",
  f.nonce
]

/** `v3|<deviceId>|<clientId>|<clientMode>|<role>|<scopes>|<signedAt>|<token>|<nonce>|<platform>|<deviceFamily>` */
export const deviceAuthPayload = (f: DeviceAuthFields): string =>
  ["v3", ...sharedFields(f), normaliseDeviceMetadata(f.platform), normaliseDeviceMetadata(f.deviceFamily)].join("|")

/**
 * `v2|<deviceId>|<clientId>|<clientMode>|<role>|<scopes>|<signedAt>|<token>|<nonce>`: what OpenClaw's
 * Control UI still signs; its Gateway accepts it when the v3 string does not verify, and so do we.
 */
export const deviceAuthPayloadV2 = (f: DeviceAuthFields): string => ["v2", ...sharedFields(f)].join("|")

/** The token a connect request's signature covers. */
export const signatureToken = (
  auth: { readonly token?: string; readonly deviceToken?: string } | undefined
): string | undefined => (auth?.token !== undefined && auth.token.trim() !== "" ? auth.token : auth?.deviceToken)

export const rawPublicKey = (key: KeyObject): Buffer => {
  const der = key.export({ format: "der", type: "spki" })
  return der.subarray(der.length - 32)
}

export const publicKeyFromRaw = (raw: Buffer): KeyObject =>
  createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: "der", type: "spki" })

export const deviceIdOf = (raw: Buffer): string => createHash("sha256").update(raw).digest("hex")
