/**
 * Deciding a pairing request: approve or reject it. Registered as node.pair.approve/reject
 * (nodes/methods.ts) and as device.pair.approve/reject (devices-methods.ts), next to device.pair.list.
 */
import { Effect } from "effect"
import { ErrorCode } from "../../protocol/frames.js"
import type { PairApprove, PairReject } from "../../protocol/contracts/nodes.js"
import { type GatewayService, type MethodHandler, RpcError } from "../gateway/api.js"
import { canPair } from "./admission.js"
import type { PairingError, PairingService } from "./Pairing.js"

const fromPairing = (e: PairingError) =>
  e.code === "APPROVAL_NOT_FOUND"
    ? new RpcError({ shape: { code: ErrorCode.approvalNotFound, message: e.message, details: { code: e.code } } })
    : e.code === "UNKNOWN_DEVICE"
      ? new RpcError({
          shape: { code: ErrorCode.invalidRequest, message: e.message, details: { code: "UNKNOWN_NODE" } }
        })
      : RpcError.unavailable(e.message, { code: "PAIRING_STORE_FAILED" })

export const pairDecisions = (gateway: GatewayService, pairing: PairingService) => {
  const resolved = (requestId: string, nodeId: string, decision: "approved" | "rejected") => {
    const payload = { requestId, nodeId, deviceId: nodeId, decision, ts: Date.now() }
    gateway.broadcast("node.pair.resolved", payload, canPair)
    gateway.broadcast("device.pair.resolved", payload, canPair)
  }

  const approve: MethodHandler<typeof PairApprove> = ({ requestId }, ctx) =>
    Effect.gen(function* () {
      const { device, request } = yield* Effect.mapError(pairing.approve(requestId, ctx.caller.scopes), fromPairing)
      resolved(requestId, device.deviceId, "approved")
      return {
        requestId,
        nodeId: device.deviceId,
        deviceId: device.deviceId,
        decision: "approved",
        ...(device.displayName === undefined ? {} : { displayName: device.displayName }),
        pairedAt: device.pairedAt,
        caps: device.caps,
        commands: device.commands,
        ...(request.upgrade === undefined ? {} : { upgrade: request.upgrade })
      }
    })
  const reject: MethodHandler<typeof PairReject> = ({ requestId }) =>
    Effect.gen(function* () {
      const request = yield* Effect.mapError(pairing.reject(requestId), fromPairing)
      resolved(requestId, request.deviceId, "rejected")
      return { requestId, nodeId: request.deviceId, deviceId: request.deviceId, decision: "rejected" as const }
    })
  return { approve, reject }
}
