/**
 * The embedding API. An Effect program `Layer.provide`s the Gateway into itself and tests swap any
 * boundary for a test layer:
 *
 *   gatewayServices(GatewayConfig.layerConfig({ gateway: { port: 0, auth: { token } } }), { exposure: TailscaleExposure.layerTest(...) })
 *
 * Custom methods: declare a contract group (`MethodGroup.make({ "my.method": Method.make({ requires,
 * params, result }) })`), implement it in a layer with `gateway.registerGroup(Group, handlers)` (or
 * one method with `defineMethod` and `registerMethod`), call it typed with `GatewayClient.typed(Group, conn)`.
 *
 * Flat: the service Tags (each with its `layer` / `layerTest`), their errors, and the composed
 * graph; `ProcessRunner.layerTest` scripts `tailscale` and `ssh` by argv for `TailscaleCli.layerProcesses`. Namespaced: the client (`GatewayClient`), the wire protocol (`Protocol`), SSH tunnels
 * (`Ssh`) and the agent's providers (`Agent`).
 */
export { Auth, AuthFailure, type AuthService } from "./services/auth/Auth.js"
export { Binder, BindError, type BinderService, type Listeners } from "./services/binder/Binder.js"
export {
  type ConnectionEvent,
  type ConnectionInfo,
  Gateway,
  type GatewayService,
  type NodeEvent
} from "./services/gateway/api.js"
export {
  ConfigError,
  type ConfigFile,
  GatewayConfig,
  type GatewaySettings,
  type InCodeOptions,
  type LoadOptions
} from "./services/config/GatewayConfig.js"
export { Pairing, PairingError, type PairingService, type PairingStore } from "./services/pairing/Pairing.js"
export { Nodes, type NodesService, type NodeView } from "./services/nodes/Nodes.js"
export {
  AUDIT_EVENTS,
  type AuditEntry,
  type AuditEvent,
  AuditLog,
  type AuditService,
  makeFileAudit,
  makeMemoryAudit
} from "./services/audit-log/AuditLog.js"
export { DeviceAccess, type DeviceView } from "./services/pairing/devices-methods.js"
export {
  ExposureConflict,
  type ExposureStatus,
  TailscaleExposure
} from "./services/tailscale-exposure/TailscaleExposure.js"
export { TailscaleCli, type TailscaleCliService, TailscaleError } from "./services/tailscale/TailscaleCli.js"
export { AgentError, AgentRuntime, type AgentRuntimeService } from "./services/agent/AgentRuntime.js"
export { Sessions, type SessionMessage, type SessionsService, SessionWriteError } from "./services/sessions/Sessions.js"
export { SshTunnel, SshTunnelError, type SshTunnelService } from "./services/ssh/SshTunnel.js"
export {
  exits,
  type ProcessError,
  ProcessRunner,
  type ProcessRunnerService,
  type ScriptedProcess
} from "./platform/process-runner.js"
export { GatewayLive, type GatewayOverrides, gatewayServices } from "./layers/index.js"
export {
  type CallerInfo,
  defineMethod,
  type GroupHandlers,
  implementGroup,
  MethodAlreadyRegistered,
  type MethodContext,
  type MethodDef,
  type MethodHandler,
  RpcError
} from "./services/gateway/api.js"
export {
  type AnyMethod,
  type AnyMethodGroup,
  Method,
  MethodGroup,
  type MethodNames,
  type MethodParams,
  type MethodResult,
  type MethodScope,
  type MethodWireParams,
  type OperatorScope
} from "./protocol/contract.js"

export * as GatewayClient from "./client/api.js"
export * as Protocol from "./protocol/api.js"
export * as Ssh from "./services/ssh/api.js"
export * as Agent from "./services/agent/api.js"
