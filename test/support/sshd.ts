/**
 * A real OpenSSH server for tests (the logic lives in sshd-fixture.mjs so benchmarks can share it).
 *
 *   const sshd = await startSshd()
 *   // gateway.remote: { transport: "ssh", sshTarget: sshd.sshTarget, sshIdentity: sshd.identity,
 *   //                   sshKnownHostsFile: sshd.knownHostsFile, remotePort: <a Gateway's port> }
 *   await sshd.stop()
 *
 * Skip a suite where it cannot run with `describe.skipIf(sshdUnavailable() !== undefined)`.
 */
import type { SshSpec } from "../../src/services/ssh/SshTunnel.js"
import * as fixture from "./sshd-fixture.mjs"

export interface SshdOptions {
  readonly dir?: string
  readonly allowTcpForwarding?: "yes" | "no" | "local"
  readonly readyTimeoutMs?: number
}

export interface Sshd {
  readonly dir: string
  readonly host: "127.0.0.1"
  readonly port: number
  readonly user: string
  readonly pid: number
  /** `user@127.0.0.1:port` (gateway.remote.sshTarget). */
  readonly sshTarget: string
  /** The authorized client key (gateway.remote.sshIdentity). */
  readonly identity: string
  /** known_hosts trusting this server (gateway.remote.sshKnownHostsFile). */
  readonly knownHostsFile: string
  readonly hostPublicKey: string
  /** known_hosts listing another key for this server: a changed host key. */
  readonly wrongKnownHostsFile: () => string
  /** A key this server refuses. */
  readonly strangerIdentity: () => string
  readonly log: () => string
  readonly stop: () => Promise<void>
}

export const startSshd: (options?: SshdOptions) => Promise<Sshd> = fixture.startSshd
export const sshdUnavailable: () => string | undefined = fixture.sshdUnavailable

/** PIDs of `ssh` client processes whose command line mentions `needle` (e.g. "-p <sshd port>"). */
export const sshClientPids = async (needle: string): Promise<Array<number>> => {
  const fs = await import("node:fs")
  const pids: Array<number> = []
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")
      if ((argv[0] === "ssh" || argv[0]?.endsWith("/ssh")) && argv.join(" ").includes(needle)) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

/**
 * The SshSpec for SshTunnel.open that reaches `remotePort` on this server's loopback (what
 * gateway.remote.* with transport "ssh" resolves to), e.g. for a node host connecting through a tunnel:
 *   Effect.scoped(Effect.flatMap(SshTunnel, (ssh) => ssh.open(sshSpecFor(sshd, gatewayPort))))
 */
export const sshSpecFor = (sshd: Sshd, remotePort: number): SshSpec => ({
  target: sshd.sshTarget,
  destination: `${sshd.user}@127.0.0.1`,
  host: "127.0.0.1",
  port: sshd.port,
  identity: sshd.identity,
  hostKeyPolicy: "strict",
  knownHostsFile: sshd.knownHostsFile,
  remotePort
})
