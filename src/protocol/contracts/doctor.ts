/** `doctor` (operator.read): the host checks run from the Gateway's side, as `openclaw doctor` shows them. */
import { Schema } from "effect"
import { Method, MethodGroup } from "../contract.js"

export const DoctorResult = Schema.Struct({
  ok: Schema.Boolean,
  target: Schema.Struct({ url: Schema.String, pid: Schema.Number, local: Schema.Boolean }),
  steps: Schema.Array(Schema.Unknown)
})

export const DoctorGroup = MethodGroup.make({
  doctor: Method.make({ requires: "operator.read", result: DoctorResult })
})
