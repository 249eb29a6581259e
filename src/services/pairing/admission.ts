/**
 * Node and operator-device admission: the pairing feature's answer to the core's DeviceAdmission.
 * A node joins only once paired; a browser that signs in with the shared secret is paired and
 * gets a device token to use instead.
 */
import * as path from "node:path"
import { Effect, Layer } from "effect"
import type { VerifiedDevice } from "../auth/device-auth.js"
import { GatewayConfig, type GatewaySettings } from "../config/GatewayConfig.js"
import {
  type AdmissionContext,
  type ConnectingClient,
  type ConnectionAdmission,
  type ConnectionInfo,
  connectRefusal,
  DeviceAdmission,
  hasScope
} from "../gateway/api.js"
import { readIdentityPublicKey } from "../../platform/identity-file.js"
import { ErrorCode } from "../../protocol/frames.js"
import { quoted } from "../../protocol/client-text.js"
import {
  type DeviceInfo,
  isEmptySurface,
  type PairedDevice,
  Pairing,
  type PairingService,
  type PendingRequest,
  surfaceBeyond
} from "./Pairing.js"

/** What operators see of a pending pairing request (node.pair.list, node.pair.requested). */
export const pendingView = (r: PendingRequest) => ({
  requestId: r.requestId,
  nodeId: r.deviceId,
  deviceId: r.deviceId,
  ...(r.displayName === undefined ? {} : { displayName: r.displayName }),
  ...(r.platform === undefined ? {} : { platform: r.platform }),
  ...(r.remoteAddress === undefined ? {} : { remoteAddress: r.remoteAddress }),
  role: r.role,
  clientId: r.clientId,
  caps: r.caps ?? [],
  commands: r.commands ?? [],
  // A paired node asking for more: only this part is new (the rest is approved already).
  ...(r.upgrade === undefined ? {} : { isRepair: true, upgrade: r.upgrade }),
  requestedAt: r.requestedAt,
  expiresAt: r.expiresAt
})

/** Operators who may answer pairing requests. */
export const canPair = (c: Pick<ConnectionInfo, "role" | "scopes">) =>
  c.role === "operator" && hasScope(c.scopes, "operator.pairing")

/** What the pairing store keeps about a device that signed this connection's connect. */
const deviceInfo = (conn: ConnectingClient, device: VerifiedDevice, role: "node" | "operator") => ({
  deviceId: device.deviceId,
  publicKey: device.publicKey,
  role,
  clientId: conn.client!.id,
  platform: conn.client!.platform,
  remoteAddress: conn.peer.remoteAddress,
  ...(conn.client!.displayName === undefined ? {} : { displayName: conn.client!.displayName })
})

export const admissionFor = (
  settings: GatewaySettings,
  pairing: PairingService,
  { broadcast, logInfo }: AdmissionContext
): ConnectionAdmission => {
  /** Pairs a node at once only when it is this machine's own node host (see NodesSettings). */
  const isOwnLocalNode = (conn: ConnectingClient, publicKey: string) =>
    settings.nodes.pairing.autoApproveLocal &&
    conn.peer.isLocal &&
    !conn.peer.fromBrowser &&
    path.isAbsolute(settings.stateDir) &&
    readIdentityPublicKey(settings.stateDir) === publicKey

  /**
   * A paired node that declares commands or capabilities beyond its approval is let in with its
   * approved ones; the rest becomes a pending request for an operator (or is added at once for
   * this machine's own node host). Nodes routes only the approved commands.
   */
  const askForMoreSurface = (conn: ConnectingClient, paired: PairedDevice, info: DeviceInfo) =>
    Effect.gen(function* () {
      const extra = surfaceBeyond(paired, info)
      if (isEmptySurface(extra)) return
      if (isOwnLocalNode(conn, info.publicKey)) return yield* Effect.ignore(pairing.pairDirectly(info))
      // Rejected a moment ago: not asked again on this connect (as for a new device).
      if ((yield* pairing.takeRejection(info.deviceId)) !== undefined) return
      const outcome = yield* Effect.option(pairing.request(info))
      if (outcome._tag === "None" || !outcome.value.created) return
      const view = pendingView(outcome.value.request)
      // Client-chosen names: quoted, and a long list cut short (one event, one line).
      const all = [
        ...extra.commands.map((c) => `command ${JSON.stringify(c.slice(0, 64))}`),
        ...extra.caps.map((c) => `cap ${JSON.stringify(c.slice(0, 64))}`)
      ]
      const what = all.length > 8 ? `${all.slice(0, 8).join(", ")} and ${all.length - 8} more` : all.join(", ")
      logInfo(
        `paired node ${info.deviceId.slice(0, 12)} now declares ${what} beyond its approval; not routed until approved: \`openclaw nodes approve ${view.requestId}\``
      )
      broadcast("node.pair.requested", view, canPair)
      broadcast("device.pair.requested", view, canPair)
    })

  return {
    checkDeviceToken: pairing.checkToken,
    admitOperatorDevice: (conn, device, authMethod, scopes) =>
      Effect.gen(function* () {
        // Only a shared-secret sign-in (or a one-time code, which stands for one) turns into a
        // device token; the browser then forgets the secret.
        if (authMethod !== "token" && authMethod !== "password" && authMethod !== "sign-in-code") return {}
        // The token carries the scopes granted now; a device paired as a node stays one (no token: WRONG_ROLE).
        const paired = yield* pairing
          .pairDirectly({ ...deviceInfo(conn, device, "operator"), scopes })
          .pipe(Effect.orElseSucceed(() => undefined))
        if (paired === undefined) return {}
        const deviceToken = yield* pairing.issueToken(device.deviceId).pipe(Effect.orElseSucceed(() => undefined))
        return deviceToken === undefined ? {} : { deviceToken }
      }),
    admitNode: (conn, device, authMethod) =>
      Effect.gen(function* () {
        // Pairing approves the commands and capabilities the node declared (see Pairing).
        const info = { ...deviceInfo(conn, device, "node"), caps: conn.caps, commands: conn.commands }
        let paired = yield* pairing.paired(device.deviceId, device.publicKey)
        // A browser's (operator's) pairing, or an older version's record of unknown role, never admits a node.
        if (paired !== undefined && paired.role !== "node") {
          const as =
            paired.role === ""
              ? "by an older version that did not record its role"
              : `as ${paired.role === "operator" ? "an operator" : `a ${paired.role}`}`
          return yield* Effect.fail(
            connectRefusal({
              code: ErrorCode.notPaired,
              message: `device ${device.deviceId.slice(0, 12)} is paired ${as}, not as a node: remove it (\`openclaw devices remove ${device.deviceId.slice(0, 12)}\`) and pair the node again`,
              details: { code: "PAIRING_ROLE_MISMATCH", deviceId: device.deviceId, requestedRole: "node" },
              retryable: false
            })
          )
        }
        if (paired === undefined && isOwnLocalNode(conn, device.publicKey)) {
          paired = yield* pairing.pairDirectly(info).pipe(Effect.orElseSucceed(() => undefined))
          if (paired !== undefined)
            logInfo(
              `paired this machine's own node host ${device.deviceId.slice(0, 12)} automatically (gateway.nodes.pairing.autoApproveLocal)`
            )
        }
        if (paired === undefined) {
          const rejectedRequest = yield* pairing.takeRejection(device.deviceId)
          if (rejectedRequest !== undefined) {
            return yield* Effect.fail(
              connectRefusal({
                code: ErrorCode.notPaired,
                message: "pairing rejected by an operator",
                // Told once, so the node stops asking; starting it again opens a new request.
                details: {
                  code: "PAIRING_REJECTED",
                  requestId: rejectedRequest,
                  reason: "rejected",
                  deviceId: device.deviceId,
                  requestedRole: "node",
                  remediationHint:
                    "An operator rejected this device's pairing request; if that was a mistake, start `openclaw node run` again to ask anew",
                  pauseReconnect: true,
                  retryable: false
                }
              })
            )
          }
          const outcome = yield* pairing
            .request(info)
            .pipe(
              Effect.mapError((e) =>
                connectRefusal({ code: ErrorCode.unavailable, message: e.message, retryable: true })
              )
            )
          const view = pendingView(outcome.request)
          if (outcome.created) {
            logInfo(
              `pairing requested by node ${view.displayName === undefined ? view.nodeId.slice(0, 12) : quoted(view.displayName)} from ${view.remoteAddress}: approve with \`openclaw nodes approve ${view.requestId}\``
            )
            broadcast("node.pair.requested", view, canPair)
            broadcast("device.pair.requested", view, canPair)
          }
          return yield* Effect.fail(
            connectRefusal({
              code: ErrorCode.notPaired,
              message: "pairing required",
              // reason / recommendedNextStep / pauseReconnect: OpenClaw's own node hosts read these
              // and keep retrying (rather than pausing) while the request waits for an operator.
              details: {
                code: "PAIRING_REQUIRED",
                requestId: view.requestId,
                reason: "not-paired",
                deviceId: device.deviceId,
                requestedRole: "node",
                expiresAt: view.expiresAt,
                remediationHint: `Approve this device on the Gateway host: openclaw nodes approve ${view.requestId}`,
                recommendedNextStep: "wait_then_retry",
                pauseReconnect: false,
                retryable: true
              }
            })
          )
        }
        yield* askForMoreSurface(conn, paired, info)
        if (authMethod === "device-token") return {}
        const deviceToken = yield* pairing.issueToken(device.deviceId).pipe(Effect.orElseSucceed(() => undefined))
        return deviceToken === undefined ? {} : { deviceToken }
      })
  }
}

/** The pairing store as the Gateway's DeviceAdmission. */
export const PairingAdmission = Layer.effect(
  DeviceAdmission,
  Effect.map(Effect.all([GatewayConfig, Pairing]), ([settings, pairing]) => ({
    forGateway: (gateway: AdmissionContext) => admissionFor(settings, pairing, gateway)
  }))
)
