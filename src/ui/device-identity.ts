/**
 * This browser's device identity (shared/protocol.md): an Ed25519 key pair made with WebCrypto,
 * the private key non-extractable and kept in IndexedDB, so the page can prove it is the same
 * device without holding the Gateway's shared secret. Signs the connect challenge like a node.
 * Without WebCrypto Ed25519 (an old browser, or a page that is not a secure context such as
 * http:// on a LAN address) there is no identity and the page keeps the shared secret as before.
 */

export interface DeviceIdentity {
  readonly deviceId: string
  /** base64url of the raw 32-byte public key. */
  readonly publicKey: string
  readonly privateKey: CryptoKey
}

const DB = "openclaw-control-ui"
const STORE = "device"
const KEY = "identity"
const TOKEN_KEY = "openclaw.controlUi.deviceToken"

const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")
const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")

const openDb = (): Promise<IDBDatabase> =>
  new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })

const idb = <T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest): Promise<T> =>
  openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const req = run(db.transaction(STORE, mode).objectStore(STORE))
        req.onsuccess = () => (resolve(req.result as T), db.close())
        req.onerror = () => (reject(req.error), db.close())
      })
  )

/** The stored identity, or a new one; undefined where WebCrypto Ed25519 or IndexedDB is missing. */
export const loadOrCreateIdentity = async (): Promise<DeviceIdentity | undefined> => {
  if (!globalThis.isSecureContext || globalThis.crypto?.subtle === undefined || globalThis.indexedDB === undefined)
    return undefined
  try {
    const stored = await idb<DeviceIdentity | undefined>("readonly", (s) => s.get(KEY))
    if (stored?.privateKey !== undefined && typeof stored.deviceId === "string") return stored
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey))
    const identity: DeviceIdentity = {
      deviceId: hex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw))),
      publicKey: b64url(raw),
      privateKey: pair.privateKey
    }
    await idb("readwrite", (s) => s.put(identity, KEY))
    return identity
  } catch {
    return undefined
  }
}

const normalise = (s: string | undefined) => (s ?? "").trim().replace(/[A-Z]/g, (c) => c.toLowerCase())

/** The connect's `device` field: the v3 string of shared/protocol.md, signed. */
export const signConnect = async (
  identity: DeviceIdentity,
  f: {
    clientId: string
    clientMode: string
    role: string
    scopes: ReadonlyArray<string>
    token: string | undefined
    nonce: string
    platform: string
    deviceFamily?: string
  }
) => {
  const signedAt = Date.now()
  const payload = [
    "v3",
    identity.deviceId,
    f.clientId,
    f.clientMode,
    f.role,
    f.scopes.join(","),
    String(signedAt),
    f.token ?? "",
    f.nonce,
    normalise(f.platform),
    normalise(f.deviceFamily)
  ].join("|")
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "Ed25519" }, identity.privateKey, new TextEncoder().encode(payload))
  )
  return {
    id: identity.deviceId,
    publicKey: identity.publicKey,
    signature: b64url(signature),
    signedAt,
    nonce: f.nonce
  }
}

/** The device token the Gateway at `url` issued to this browser. */
export const loadDeviceToken = (url: string, deviceId: string): string | undefined => {
  try {
    const t = JSON.parse(localStorage.getItem(TOKEN_KEY) ?? "null") as {
      url?: string
      deviceId?: string
      token?: string
    } | null
    return t?.url === url && t.deviceId === deviceId && typeof t.token === "string" ? t.token : undefined
  } catch {
    return undefined
  }
}

export const saveDeviceToken = (url: string, deviceId: string, token: string) =>
  localStorage.setItem(TOKEN_KEY, JSON.stringify({ url, deviceId, token }))
export const forgetDeviceToken = () => localStorage.removeItem(TOKEN_KEY)
