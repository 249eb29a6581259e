/** A node speaking the protocol by hand over a raw socket: signed connects and scripted invoke answers. */
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { deviceAuthPayload, type DeviceAuthFields, deviceIdOf, rawPublicKey } from "../../src/protocol/device.js"
import { connectParams, RawClient, TOKEN } from "./gateway.js"

export interface TestIdentity {
  readonly deviceId: string
  readonly publicKey: string
  readonly privateKey: KeyObject
}

export const newIdentity = (): TestIdentity => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519")
  const raw = rawPublicKey(publicKey)
  return { deviceId: deviceIdOf(raw), publicKey: raw.toString("base64url"), privateKey }
}

/** Writes the identity where the Gateway looks for its own machine's node host. */
export const writeIdentity = (stateDir: string, id: TestIdentity) => {
  fs.mkdirSync(path.join(stateDir, "identity"), { recursive: true, mode: 0o700 })
  fs.writeFileSync(
    path.join(stateDir, "identity", "device.json"),
    JSON.stringify({
      version: 1,
      deviceId: id.deviceId,
      publicKey: id.publicKey,
      privateKeyPem: id.privateKey.export({ format: "pem", type: "pkcs8" })
    }),
    { mode: 0o600 }
  )
}

/**
 * A connect's `device` block: the payload over `fields` signed with the identity's key. `id` and
 * `publicKey` may be swapped to tamper with what is sent (they default to the identity's).
 */
export const signedDevice = (
  identity: TestIdentity,
  fields: DeviceAuthFields,
  sent: { readonly id?: string; readonly publicKey?: string } = {}
) => ({
  id: sent.id ?? identity.deviceId,
  publicKey: sent.publicKey ?? identity.publicKey,
  signature: sign(null, Buffer.from(deviceAuthPayload(fields)), identity.privateKey).toString("base64url"),
  signedAt: fields.signedAt,
  nonce: fields.nonce
})

export interface NodeConnectOptions {
  readonly auth?: Record<string, string>
  readonly commands?: ReadonlyArray<string>
  readonly caps?: ReadonlyArray<string>
  readonly displayName?: string
  /** Tamper with what is signed or sent. */
  readonly nonce?: (challenge: string) => string
  readonly signedAt?: number
  readonly deviceId?: string
  readonly publicKey?: string
  readonly signRole?: string
  readonly omitDevice?: boolean
  readonly headers?: Record<string, string>
  /** Connect (and sign) as this role with these scopes instead: a device token's role switch. */
  readonly role?: "node" | "operator"
  readonly scopes?: ReadonlyArray<string>
  readonly clientId?: string
  readonly clientMode?: string
}

export const nodeConnect = async (url: string, id: TestIdentity, o: NodeConnectOptions = {}) => {
  const client = await RawClient.open(url, o.headers === undefined ? {} : { headers: o.headers })
  const challenge = (await client.event("connect.challenge")).payload.nonce as string
  const client_ = {
    id: o.clientId ?? "node-host",
    version: "1.0.0",
    platform: "Linux",
    mode: o.clientMode ?? "node",
    displayName: o.displayName ?? "test-node",
    deviceFamily: "Linux"
  }
  const auth = o.auth ?? { token: TOKEN }
  const signedAt = o.signedAt ?? Date.now()
  const nonce = o.nonce ? o.nonce(challenge) : challenge
  const device = signedDevice(
    id,
    {
      deviceId: o.deviceId ?? id.deviceId,
      clientId: client_.id,
      clientMode: client_.mode,
      role: o.signRole ?? o.role ?? "node",
      scopes: o.scopes ?? [],
      signedAt,
      token: auth.token ?? auth.deviceToken,
      nonce,
      platform: client_.platform,
      deviceFamily: client_.deviceFamily
    },
    {
      ...(o.deviceId === undefined ? {} : { id: o.deviceId }),
      ...(o.publicKey === undefined ? {} : { publicKey: o.publicKey })
    }
  )
  const res = await client.connect(
    connectParams({
      role: o.role ?? "node",
      scopes: o.scopes ?? [],
      client: client_,
      caps: o.caps ?? ["browser"],
      commands: o.commands ?? ["browser.proxy", "echo", "slow", "fail"],
      auth,
      ...(o.omitDevice ? {} : { device })
    })
  )
  return { client, res }
}

/**
 * Answers node.invoke.request: "echo" returns its params, "slow" never answers, browser.proxy
 * echoes the request; every request is recorded.
 */
export const serveInvokes = (client: RawClient) => {
  const seen: Array<any> = []
  client.ws.on("message", (d) => {
    const f = JSON.parse(d.toString())
    if (f.type !== "event" || f.event !== "node.invoke.request") return
    seen.push(f.payload)
    const { id, nodeId, command, paramsJSON } = f.payload
    if (command === "slow") return
    const params = JSON.parse(paramsJSON)
    const reply =
      command === "fail"
        ? { ok: false, error: { code: "INVALID_REQUEST", message: "nope" } }
        : { ok: true, payload: { command, params } }
    client.send({ type: "req", id: `result-${id}`, method: "node.invoke.result", params: { id, nodeId, ...reply } })
  })
  return seen
}
