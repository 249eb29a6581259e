/** The built-in method groups, one file per namespace; the client's GatewayMethods is their union. */
import { MethodGroup } from "../contract.js"
import { AgentGroup } from "./agent.js"
import { AbsentFeatureGroup, CompatGroup, FeatureGroup } from "./compat.js"
import { CoreGroup } from "./core.js"
import { DeviceGroup } from "./devices.js"
import { DoctorGroup } from "./doctor.js"
import { NodeGroup } from "./nodes.js"
import { SessionGroup } from "./sessions.js"
import { SignInGroup } from "./sign-in.js"

export {
  AbsentFeatureGroup,
  AgentGroup,
  CompatGroup,
  CoreGroup,
  DeviceGroup,
  DoctorGroup,
  FeatureGroup,
  NodeGroup,
  SessionGroup,
  SignInGroup
}

/** Every method this Gateway serves (a name declared in two groups throws here, at import). */
export const BuiltinGroup = MethodGroup.merge(
  CoreGroup,
  AgentGroup,
  SessionGroup,
  NodeGroup,
  DeviceGroup,
  CompatGroup,
  FeatureGroup,
  AbsentFeatureGroup,
  DoctorGroup,
  SignInGroup
)
