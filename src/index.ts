/**
 * The embedding API: the Gateway's services, their layers, and a client. An Effect program can
 * `Layer.provide` the Gateway into itself, and tests can swap any boundary for a test layer.
 */
export { Auth, AuthFailure, type AuthService, constantTimeEqual } from "./services/Auth.js"
export { Binder, BindError, type BinderService, type Listeners, findTailnetAddress, isTailscaleAddress } from "./services/Binder.js"
export { Gateway, type GatewayService, type PresenceEntry } from "./services/Gateway.js"
export { ConfigError, GatewayConfig, type GatewaySettings, type LoadOptions, testSettings } from "./services/GatewayConfig.js"
export { Pairing, PairingError, type PairingService, type PairingStore, fileStore, memoryStore } from "./services/Pairing.js"
export { Nodes, type NodesService, type NodeView } from "./services/Nodes.js"
export { ExposureConflict, type ExposureStatus, TailscaleExposure } from "./services/TailscaleExposure.js"
export { TailscaleCli, type TailscaleCliService, TailscaleError } from "./services/TailscaleCli.js"
export { AgentError, AgentRuntime, type AgentRuntimeService, echoProvider, openaiProvider, type Provider, type RunResult } from "./services/AgentRuntime.js"
export { Sessions, type SessionMessage, type SessionsService, SessionWriteError } from "./services/Sessions.js"
export { GatewayLive, type GatewayOverrides, gatewayServices } from "./layers/index.js"
export { connect, connectTarget, GatewayClientError, type GatewayConnection, RpcClient, type TargetConnection } from "./client/GatewayClient.js"
export { resolveTarget, type Target } from "./client/target.js"
export { parseFingerprint, pinnedTlsConnect } from "./client/tls-pin.js"
export { certificateFingerprint, TlsSetupError } from "./gateway/tls.js"
export { classifySshFailure, parseSshTarget, type SshSpec, SshTunnel, SshTunnelError, type SshTunnelService, sshArgs, type Tunnel } from "./services/SshTunnel.js"
export { RpcError, type MethodDef, type MethodContext } from "./gateway/rpc.js"
export * as Protocol from "./protocol/frames.js"
export { VERSION } from "./version.js"
