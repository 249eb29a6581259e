import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { resolveTarget } from "../../src/client/target.js"
import { parseFingerprint } from "../../src/client/tls-pin.js"
import { classifySshFailure, parseSshTarget, type SshSpec, sshArgs } from "../../src/services/ssh/SshTunnel.js"

const FP = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
const loaded = (gateway: Record<string, any> = {}) => ({
  configPath: "/cfg/openclaw.json",
  stateDir: "/nonexistent-state",
  exists: true,
  file: { gateway }
})

const spec = (over: Partial<SshSpec> = {}): SshSpec => ({
  target: "me@gw.example:2222",
  destination: "me@gw.example",
  host: "gw.example",
  port: 2222,
  identity: "/k/id",
  hostKeyPolicy: "strict",
  knownHostsFile: "/k/known_hosts",
  remotePort: 18789,
  ...over
})

describe("TLS fingerprints", () => {
  it("accepts colon hex, plain hex and a sha256: prefix in any case; returns uppercase colon hex", () => {
    const plain = FP.replace(/:/g, "")
    for (const v of [
      FP,
      FP.toLowerCase(),
      plain,
      plain.toLowerCase(),
      `sha256:${plain}`,
      `SHA256:${FP.toLowerCase()}`,
      `  ${FP}  `
    ]) {
      expect(parseFingerprint(v, "k")).toBe(FP)
    }
  })
  it("rejects anything else, naming where it came from", () => {
    for (const v of [
      "",
      "sha1:" + "ab".repeat(20),
      FP.slice(0, -3),
      `${FP}:AB`,
      "AB:CDE:F0" + ":00".repeat(29),
      "ab".repeat(31) + "zz",
      "AB-CD" + "-00".repeat(30)
    ]) {
      expect(() => parseFingerprint(v, "gateway.remote.tlsFingerprint"), v).toThrow(
        "gateway.remote.tlsFingerprint: expected a SHA-256"
      )
    }
  })
})

describe("ssh targets and argv", () => {
  it("parses user@host[:port] and bracketed IPv6", () => {
    expect(parseSshTarget("me@gw.example")).toEqual({
      destination: "me@gw.example",
      host: "gw.example",
      port: undefined
    })
    expect(parseSshTarget("me@10.0.0.5:2222")).toEqual({ destination: "me@10.0.0.5", host: "10.0.0.5", port: 2222 })
    expect(parseSshTarget("me@[::1]:22")).toEqual({ destination: "me@::1", host: "::1", port: 22 })
    expect(parseSshTarget("gw")).toEqual({ destination: "gw", host: "gw", port: undefined })
  })
  it("refuses option injection, whitespace and shell metacharacters", () => {
    for (const t of [
      "-oProxyCommand=id",
      "me@-oProxyCommand=id",
      "me@host;id",
      "me@host id",
      "me@$(id)",
      "me@`id`",
      "me@host|x",
      "me@host\nx",
      "me@host:0",
      "me@host:abc",
      "me@::1",
      "@host",
      "a'b@host",
      "me@host&"
    ]) {
      expect(typeof parseSshTarget(t), t).toBe("string")
    }
    expect(parseSshTarget("-oX")).toContain("gateway.remote.sshTarget: must not start with '-'")
  })
  it("builds a fresh argv with our -o values first and the destination after --", () => {
    const argv = sshArgs(spec(), 40000, { connectTimeoutS: 7, serverAliveIntervalS: 3 })
    expect(argv).toEqual([
      "-N",
      "-o",
      "BatchMode=yes",
      "-o",
      "ExitOnForwardFailure=yes",
      "-o",
      "ServerAliveInterval=3",
      "-o",
      "ServerAliveCountMax=2",
      "-o",
      "ConnectTimeout=7",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "UserKnownHostsFile=/k/known_hosts",
      "-o",
      "IdentitiesOnly=yes",
      "-i",
      "/k/id",
      "-p",
      "2222",
      "-L",
      "127.0.0.1:40000:127.0.0.1:18789",
      "--",
      "me@gw.example"
    ])
    const openssh = sshArgs(
      spec({ hostKeyPolicy: "openssh", identity: undefined, knownHostsFile: undefined, port: undefined }),
      1
    )
    expect(openssh.join(" ")).not.toContain("StrictHostKeyChecking")
    expect(openssh.join(" ")).not.toContain("-i")
    // Called twice: two independent arrays (nothing accumulates between restarts).
    expect(sshArgs(spec(), 1)).not.toBe(sshArgs(spec(), 1))
  })
  it("classifies ssh's stderr into one line per cause, never echoing the banner", () => {
    const banner =
      "@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key for [gw.example]:2222 has changed and you have requested strict checking.\nHost key verification failed.\n"
    const changed = classifySshFailure(banner, 255, spec(), 1)
    expect(changed.kind).toBe("host-key-changed")
    expect(changed.message).not.toContain("@@@")
    expect(changed.message).not.toContain("\n")
    expect(
      classifySshFailure(
        "No ED25519 host key is known for [gw.example]:2222 and you have requested strict checking.\nHost key verification failed.\n",
        255,
        spec(),
        1
      ).kind
    ).toBe("host-key-unknown")
    expect(classifySshFailure("me@gw.example: Permission denied (publickey).\n", 255, spec(), 1).kind).toBe("auth")
    expect(
      classifySshFailure("ssh: connect to host gw.example port 2222: Connection refused\n", 255, spec(), 1).kind
    ).toBe("refused")
    expect(
      classifySshFailure("ssh: Could not resolve hostname gw.example: Name or service not known\n", 255, spec(), 1).kind
    ).toBe("host-not-found")
    expect(
      classifySshFailure(
        "bind [127.0.0.1]:1: Address already in use\nchannel_setup_fwd_listener_tcpip: cannot listen to port: 1\nCould not request local forwarding.\n",
        255,
        spec(),
        1
      ).kind
    ).toBe("local-port-in-use")
    expect(
      classifySshFailure("ssh: connect to host gw.example port 2222: Connection timed out\n", 255, spec(), 1).kind
    ).toBe("timeout")
    const other = classifySshFailure("line one\nline two\nsomething odd\n", 255, spec(), 1)
    expect(other.message).toBe("ssh to gw.example port 2222 exited (code 255): something odd")
  })
})

describe("remote targets with transport ssh and pins", () => {
  const key = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "oc-key-")), "id")
  fs.writeFileSync(key, "x")
  const ssh = {
    mode: "remote",
    remote: { transport: "ssh", sshTarget: "me@gw.example:2222", sshIdentity: key, token: "r" }
  }

  it("transport ssh: the URL is the remote loopback, the tunnel spec comes from gateway.remote.*", () => {
    const t = resolveTarget(loaded(ssh), {}, {})
    expect(t).toMatchObject({
      url: "ws://127.0.0.1:18789",
      token: "r",
      remote: true,
      ssh: { destination: "me@gw.example", port: 2222, hostKeyPolicy: "strict", remotePort: 18789, identity: key }
    })
    expect(
      resolveTarget(loaded({ ...ssh, remote: { ...ssh.remote, remotePort: 19000, tlsFingerprint: FP } }), {}, {})
    ).toMatchObject({ url: "wss://127.0.0.1:19000", tlsFingerprint: FP })
    expect(() =>
      resolveTarget(loaded({ ...ssh, remote: { ...ssh.remote, sshIdentity: "/no/such/key" } }), {}, {})
    ).toThrow("gateway.remote.sshIdentity: no such file /no/such/key")
  })
  it("pins: flag over config; config pin only for the configured remote; pin + ws:// is an error", () => {
    const remote = { mode: "remote", remote: { url: "wss://gw.example:18789", tlsFingerprint: FP.toLowerCase() } }
    expect(resolveTarget(loaded(remote), {}, {})).toMatchObject({
      tlsFingerprint: FP,
      pinSource: "gateway.remote.tlsFingerprint"
    })
    const other = "00".repeat(32)
    expect(resolveTarget(loaded(remote), {}, { tlsFingerprint: other }).pinSource).toBe("--tls-fingerprint")
    expect(resolveTarget(loaded(remote), {}, { url: "wss://elsewhere:1", token: "t" }).tlsFingerprint).toBeUndefined()
    expect(() =>
      resolveTarget(loaded({ mode: "remote", remote: { url: "ws://10.0.0.5:18789", tlsFingerprint: FP } }), {}, {})
    ).toThrow("gateway.remote.tlsFingerprint pins a TLS certificate, but the target ws://10.0.0.5:18789")
    expect(() => resolveTarget(loaded({ remote: { tlsFingerprint: "bad" } }), {}, {})).toThrow(
      "gateway.remote.tlsFingerprint: expected"
    )
  })
})
