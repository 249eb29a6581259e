/**
 * Paired devices and the audit log, for operators: device.pair.list/approve/reject,
 * device.token.revoke, device.pair.remove, device.rename (operator.pairing) and audit.tail
 * (operator.admin). device.pair.approve/reject decide node requests too (nodes.ts: PairApprove).
 */
import { Schema } from "effect"
import { Method, MethodGroup } from "../contract.js"
import { NonEmptyString, ParamProblem, type ParamProblemAnnotation } from "../params.js"
import { PairApprove, PairReject } from "./nodes.js"

export const MAX_DEVICE_NAME = 64

/** A paired device by id, unique id prefix (4+ characters) or display name; nodeId is the same thing. */
export const DeviceRefParams = Schema.Struct({
  deviceId: Schema.optionalWith(NonEmptyString, { exact: true }),
  nodeId: Schema.optionalWith(NonEmptyString, { exact: true })
})
const DisplayName = Schema.String.pipe(
  Schema.filter((s) => {
    const name = s.trim()
    return name.length > 0 && name.length <= MAX_DEVICE_NAME && !/[\u0000-\u001f\u007f]/.test(name)
  }),
  Schema.annotations({
    [ParamProblem]: {
      code: "INVALID_PARAMS",
      message: (method: string) =>
        `${method} needs params.displayName: 1 to ${MAX_DEVICE_NAME} characters, no control characters`
    } satisfies ParamProblemAnnotation
  })
)
export const RenameParams = Schema.Struct({ ...DeviceRefParams.fields, displayName: DisplayName })
const Finite = Schema.Number.pipe(Schema.filter((n) => Number.isFinite(n), { description: "a number" }))
export const AuditTailParams = Schema.Struct({
  limit: Schema.optionalWith(Finite, { exact: true, default: () => 200 }),
  since: Schema.optionalWith(Finite, { exact: true })
})

export const DeviceGroup = MethodGroup.make({
  "device.pair.list": Method.make({ requires: "operator.pairing", result: Schema.Unknown }),
  "device.pair.approve": PairApprove,
  "device.pair.reject": PairReject,
  "device.token.revoke": Method.make({ requires: "operator.pairing", params: DeviceRefParams, result: Schema.Unknown }),
  "device.pair.remove": Method.make({ requires: "operator.pairing", params: DeviceRefParams, result: Schema.Unknown }),
  "device.rename": Method.make({ requires: "operator.pairing", params: RenameParams, result: Schema.Unknown }),
  "audit.tail": Method.make({ requires: "operator.admin", params: AuditTailParams, result: Schema.Unknown })
})
