/** SSH tunnel helpers (`Ssh.*`) beside the SshTunnel service. */
export { classifySshFailure, parseSshTarget, type SshSpec, sshArgs, type Tunnel } from "./SshTunnel.js"
