/**
 * The node host's device identity: an Ed25519 key pair in <stateDir>/identity/device.json (0600,
 * directory 0700), created on first use, and the device tokens Gateways issued to it
 * (<stateDir>/identity/device-auth.json, per Gateway URL). Kept light: the Gateway reads the
 * public key to recognise its own machine's node host.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Either, Schema } from "effect"
import { readPrivateText, writePrivateJson } from "../../platform/private-file.js"
import { decodeEntries, decodeStateText } from "../../platform/state-json.js"
import { deviceIdOf, rawPublicKey } from "../../protocol/device.js"
import { identityDir, identityFile } from "../../platform/identity-file.js"

export interface DeviceIdentity {
  readonly deviceId: string
  /** base64url of the raw public key. */
  readonly publicKey: string
  readonly privateKey: KeyObject
  readonly file: string
}

const tokenFile = (stateDir: string) => path.join(identityDir(stateDir), "device-auth.json")

/** device.json: the key pair (the private key is what counts; the rest is for readers). Other fields are ignored. */
export const DeviceIdentityJson = Schema.Struct({
  version: Schema.optional(Schema.Number),
  deviceId: Schema.optional(Schema.String),
  publicKey: Schema.optional(Schema.String),
  privateKeyPem: Schema.String,
  createdAt: Schema.optional(Schema.String)
})

/** An entry of device-auth.json's `tokens`, keyed by Gateway URL. */
export const DeviceTokenJson = Schema.Struct({
  token: Schema.String,
  deviceId: Schema.String,
  issuedAt: Schema.optionalWith(Schema.String, { default: () => "" })
}).annotations({ identifier: "a device token entry (an object)" })

const DeviceAuthJson = Schema.Struct({ tokens: Schema.optional(Schema.Unknown) }).annotations({
  identifier: "a device token file (an object)"
})

/** The identity in <stateDir>/identity/device.json, created when there is none; throws, saying what to do, for a file it cannot use. */
export const loadOrCreateIdentity = (stateDir: string): DeviceIdentity => {
  const file = identityFile(stateDir)
  const text = readPrivateText(file)
  if (text !== undefined) {
    const unusable = (problem: string) =>
      new Error(`${file} ${problem}; move it away to create a new identity (the node must then be paired again)`)
    const value = decodeStateText(DeviceIdentityJson, text)
    if (Either.isLeft(value))
      throw unusable(value.left.startsWith("is not") ? value.left : `is not an identity (${value.left})`)
    let privateKey: KeyObject
    try {
      privateKey = createPrivateKey(value.right.privateKeyPem)
    } catch {
      throw unusable("holds a privateKeyPem that is not a private key")
    }
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

/** Where what was wrong with device-auth.json goes by default: the node host's stderr. */
const warn = (warning: string) => void process.stderr.write(`warning: ${warning}\n`)

const writeTokens = (file: string, tokens: Map<string, TokenEntry>) =>
  writePrivateJson(file, { version: 1, tokens: Object.fromEntries(tokens) })

/**
 * Keyed by Gateway URL: a Map, so no URL can reach an object's prototype. A file or entries that
 * cannot be read are moved aside (once, reported): without its token the node pairs again with
 * its shared secret and is issued a new one.
 */
const readTokens = (stateDir: string, report: (warning: string) => void): Map<string, TokenEntry> => {
  const file = tokenFile(stateDir)
  const tokens = new Map<string, TokenEntry>()
  let text: string | undefined
  try {
    text = readPrivateText(file)
  } catch (e) {
    report(`cannot read ${file}: ${(e as Error).message}; connecting without a stored device token`)
    return tokens
  }
  if (text === undefined) return tokens
  const value = decodeStateText(DeviceAuthJson, text)
  const entries = Either.isRight(value) ? decodeEntries(DeviceTokenJson, value.right.tokens ?? {}) : undefined
  if (entries !== undefined) for (const [url, e] of entries.entries) tokens.set(url, e)
  const problem =
    entries === undefined
      ? Either.isLeft(value)
        ? value.left
        : "is not a device token file (tokens: expected an object keyed by Gateway URL)"
      : entries.problems.length > 0
        ? `has device tokens this version cannot read (${entries.problems.join("; ")})`
        : undefined
  if (problem !== undefined) {
    const aside = `${file}.bad-${new Date().toISOString().replace(/[:.]/g, "-")}`
    try {
      fs.renameSync(file, aside)
      writeTokens(file, tokens)
      report(`${file} ${problem}; moved it to ${aside}: pass --token or --password to pair those Gateways again`)
    } catch (e) {
      report(
        `${file} ${problem}; ignoring it (cannot move it aside: ${(e as NodeJS.ErrnoException).code ?? String(e)})`
      )
    }
  }
  return tokens
}

/** The device token a Gateway (by URL) issued to this identity, if any. */
export const loadDeviceToken = (
  stateDir: string,
  gatewayUrl: string,
  deviceId: string,
  report: (warning: string) => void = warn
): string | undefined => {
  const entry = readTokens(stateDir, report).get(gatewayUrl)
  return entry !== undefined && entry.deviceId === deviceId ? entry.token : undefined
}

export const storeDeviceToken = (
  stateDir: string,
  gatewayUrl: string,
  deviceId: string,
  token: string | undefined,
  report: (warning: string) => void = warn
): void => {
  const tokens = readTokens(stateDir, report)
  if (token === undefined) tokens.delete(gatewayUrl)
  else tokens.set(gatewayUrl, { token, deviceId, issuedAt: new Date().toISOString() })
  writeTokens(tokenFile(stateDir), tokens)
}
