/** The client half of the embedding API (`GatewayClient.*`): connect, resolve a target, pin TLS. */
export {
  connect,
  connectTarget,
  GatewayClientError,
  type GatewayConnection,
  type GroupClient,
  RpcClient,
  type TargetConnection,
  typed
} from "./GatewayClient.js"
export { resolveTarget, type Target } from "./target.js"
export { parseFingerprint, pinnedTlsConnect } from "./tls-pin.js"
