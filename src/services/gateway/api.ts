/**
 * The Gateway core's public API: everything a feature needs from the core, ours and an embedder's
 * alike. Features import this module, never another of src/services/gateway/ (dependency-cruiser's
 * features-use-the-core-api rule):
 *
 * - the Gateway (Tag and service): register methods, status sections, broadcast, connection and
 *   node events as Streams of plain data (ConnectionInfo), send to / ping / close one connection;
 * - methods: registerGroup / implementGroup for a contract group (src/protocol/contract.ts), defineMethod, RpcError, what a handler is given (MethodContext, CallerInfo), scopes,
 *   and the idempotency cache that side-effecting methods keep;
 * - the hooks a feature may fill (Context.Reference services with defaults): DeviceAdmission,
 *   GatewayAudit, HostDiscovery, ServePeer.
 */
export { Gateway, GATEWAY_EVENTS, type GatewayService, PRESENCE_MAX, type PresenceEntry } from "./Gateway.js"
export type { ConnectingClient, ConnectionEvent, ConnectionInfo, NodeEvent } from "./clients.js"
export {
  type CallerInfo,
  defineMethod,
  type GroupHandlers,
  implementGroup,
  MethodAlreadyRegistered,
  type MethodContext,
  type MethodDef,
  type MethodHandler,
  type OperatorScope,
  RpcError
} from "./rpc.js"
export { grantedScopes, hasScope } from "./scopes.js"
export { IdempotencyCache } from "./idempotency.js"
export {
  type AdmissionContext,
  type ConnectionAdmission,
  DeviceAdmission,
  GatewayAudit,
  type GatewayAuditService,
  HostDiscovery,
  withoutPairing
} from "./hooks.js"
export { type ConnectRefusal, connectRefusal, type RefusedConnect } from "./refusal.js"
export { ServePeer, type ServePeerCheck } from "./serve-peer.js"
