/**
 * The connect request, once per connection: its params and protocol checked, then the admission
 * (device signature, device token, credential, node pairing) as an Effect. Connection (connection.ts)
 * runs it and applies the outcome; nothing here runs per frame.
 */
import { Effect } from "effect"
import {
  type ClientInfo,
  CloseCode,
  type ConnectParams,
  ErrorCode,
  type ErrorShape,
  LEGACY_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type Role
} from "../../protocol/frames.js"
import type { AuthGrant, AuthRequest, AuthService } from "../auth/Auth.js"
import { type DeviceVerdict, missingDevice, type VerifiedDevice, verifyDevice } from "../auth/device-auth.js"
import { decodeConnectParams } from "./connect-params.js"
import { grantedScopes } from "./scopes.js"
import { type ConnectRefusal, connectRefusal, refusalOf } from "./refusal.js"

/** The empty list every connection without caps, commands or scopes shares (an idle client keeps them). */
export const NONE: ReadonlyArray<string> = Object.freeze([])

/** Device checks a connect makes once its credential is known (a feature provides them: gateway/hooks.ts). */
export interface Admission<C> {
  /**
   * Checks a device token against the device it was issued to and the role it was issued for. A
   * valid operator token comes with its scope ceiling; a token that matched but may not sign in
   * this way (another role, an older version's record) comes with the problem to tell the client.
   */
  readonly checkDeviceToken: (
    deviceId: string,
    token: string,
    role: Role
  ) => Effect.Effect<
    { readonly ok: true; readonly scopes: ReadonlyArray<string> } | { readonly ok: false; readonly problem?: string }
  >
  /**
   * Decides whether an authenticated node may join: paired (returns a fresh device token unless
   * it authenticated with one), or refused with NOT_PAIRED and a pending request.
   */
  readonly admitNode: (
    conn: C,
    device: VerifiedDevice,
    authMethod: string
  ) => Effect.Effect<{ readonly deviceToken?: string }, ConnectRefusal>
  /**
   * An operator that signed its connect with a device identity (a browser's WebCrypto key): after
   * a shared-secret sign-in it is paired with the scopes granted now, and gets a device token to
   * use instead of the secret (that token never signs in with more than `scopes`).
   */
  readonly admitOperatorDevice?: (
    conn: C,
    device: VerifiedDevice,
    authMethod: string,
    scopes: ReadonlyArray<string>
  ) => Effect.Effect<{ readonly deviceToken?: string }, ConnectRefusal>
}

export type ConnectCheck =
  | { readonly ok: true; readonly params: ConnectParams; readonly role: Role }
  | { readonly ok: false; readonly error: ErrorShape; readonly closeCode: number }

/** The connect params, role and protocol version, before any credential is looked at. */
export const checkConnect = (rawParams: unknown): ConnectCheck => {
  const decoded = decodeConnectParams(rawParams)
  if (!decoded.ok) {
    return {
      ok: false,
      error: { code: ErrorCode.invalidRequest, message: `invalid connect params: ${decoded.problem}` },
      closeCode: CloseCode.policy
    }
  }
  const params = decoded.params
  const role = params.role ?? "operator"
  if (role !== "operator" && role !== "node") {
    return {
      ok: false,
      error: { code: ErrorCode.invalidRequest, message: "invalid role" },
      closeCode: CloseCode.policy
    }
  }
  // A sign-in code becomes a device token, so it only counts with a signed browser identity to
  // issue that token to (and it is refused before it is looked at, so it is not used up).
  const code = params.auth?.signInCode
  if (code !== undefined && code.length > 0 && (role !== "operator" || params.device === undefined)) {
    return {
      ok: false,
      error: {
        code: ErrorCode.invalidRequest,
        message:
          role !== "operator"
            ? "auth.signInCode is for operator sign-ins (a Control UI link), not for nodes"
            : "auth.signInCode needs a signed device identity (params.device): open the link in a browser on https or localhost, or sign in with the Gateway's token",
        details: { code: "SIGN_IN_CODE_NEEDS_DEVICE" }
      },
      closeCode: CloseCode.policy
    }
  }
  const speaks = (v: number) => params.minProtocol <= v && v <= params.maxProtocol
  const legacyOk = params.client.mode === "probe" || role === "node"
  if (!speaks(PROTOCOL_VERSION) && !(legacyOk && speaks(LEGACY_PROTOCOL_VERSION))) {
    return {
      ok: false,
      error: {
        code: ErrorCode.invalidRequest,
        message: `protocol mismatch: this Gateway speaks protocol ${PROTOCOL_VERSION}, the client offered ${params.minProtocol}-${params.maxProtocol}`,
        details: { code: "PROTOCOL_MISMATCH", expectedProtocol: PROTOCOL_VERSION }
      },
      closeCode: CloseCode.protocolMismatch
    }
  }
  return { ok: true, params, role }
}

/** What admission learns about the connection as it goes (a refusal can then say which device it was). */
export interface Admittee {
  client: ClientInfo | undefined
  device: VerifiedDevice | undefined
  caps: ReadonlyArray<string>
  commands: ReadonlyArray<string>
}

export interface Admitted {
  readonly grant: AuthGrant
  readonly issued: { readonly deviceToken?: string }
  /** An operator's scopes: as asked, or within its device token's ceiling; a node's: none. */
  readonly scopes: ReadonlyArray<string>
}

/**
 * The whole admission of a connect that cannot be decided at once: a signed identity is verified
 * first (its device token is looked up by its id); a node without one hears about its credential
 * first, then that it needs an identity.
 */
export const admit = <C extends Admittee>(
  host: Admission<C> & { readonly auth: AuthService },
  conn: C,
  params: ConnectParams,
  role: Role,
  request: AuthRequest,
  nonce: string
): Effect.Effect<Admitted, ConnectRefusal> =>
  Effect.gen(function* () {
    let device: VerifiedDevice | undefined
    const refuseDevice = (verdict: Extract<DeviceVerdict, { ok: false }>) =>
      Effect.fail(
        connectRefusal({ code: ErrorCode.invalidRequest, message: verdict.message, details: { code: verdict.code } })
      )
    if (params.device !== undefined) {
      const verdict = verifyDevice(params, role, nonce, Date.now())
      if (!verdict.ok) return yield* refuseDevice(verdict)
      device = verdict.device
      // Known before the credential check, so a refusal can say which (verified) device it was.
      conn.device = device
    }
    const offeredDeviceToken = params.auth?.deviceToken
    // Bound to its device (the verified signature's id) and to the role it was issued for.
    const tokenCheck =
      device !== undefined && offeredDeviceToken !== undefined && offeredDeviceToken.length > 0
        ? yield* host.checkDeviceToken(device.deviceId, offeredDeviceToken, role)
        : undefined
    const deviceToken = tokenCheck === undefined ? undefined : tokenCheck.ok ? ("valid" as const) : ("invalid" as const)
    const problem = tokenCheck !== undefined && !tokenCheck.ok ? tokenCheck.problem : undefined
    const grant = yield* host.auth
      .authenticate({
        ...request,
        ...(deviceToken === undefined ? {} : { deviceToken }),
        ...(problem === undefined ? {} : { deviceTokenProblem: problem })
      })
      .pipe(Effect.mapError(refusalOf))
    // Signed in with its device token: never more than that token carries (a node's: no operator
    // scope), unless the shared secret came too (the owner asks for what it likes, as without a token).
    const ceiling =
      grant.method === "device-token" && grant.sharedSecret !== true && tokenCheck?.ok === true
        ? tokenCheck.scopes
        : undefined
    const scopes = role === "operator" ? grantedScopes(params.scopes, ceiling) : []
    if (role === "node" && device === undefined) return yield* refuseDevice(missingDevice)
    conn.client = params.client
    conn.device = device
    conn.caps = params.caps ?? NONE
    conn.commands = params.commands ?? NONE
    const issued =
      device === undefined
        ? {}
        : role === "node"
          ? yield* host.admitNode(conn, device, grant.method)
          : host.admitOperatorDevice === undefined
            ? {}
            : yield* host.admitOperatorDevice(conn, device, grant.method, scopes)
    return { grant, issued, scopes }
  })
