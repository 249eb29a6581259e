// A real OpenSSH server for tests and benchmarks (plain JS so bench/ can use it too; typed by sshd.ts).
// Debian's /usr/sbin/sshd on 127.0.0.1 at a free port, with its own generated host key, one
// generated client key in its AuthorizedKeysFile, and a known_hosts file that trusts exactly
// that host key. Needs root (sshd's privilege separation; `/run/sshd` is created).
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

export const SSHD = "/usr/sbin/sshd"

/** Why the fixture cannot run here, or undefined when it can. */
export const sshdUnavailable = () => {
  if (!fs.existsSync(SSHD)) return `${SSHD} is not installed (apt-get install openssh-server)`
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "sshd needs root here"
  try {
    execFileSync("ssh", ["-V"], { stdio: "ignore" })
  } catch {
    return "ssh is not installed (apt-get install openssh-client)"
  }
  return undefined
}

/** A port that was free on 127.0.0.1 a moment ago. */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer().listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on("error", reject)
  })

const keygen = (file, comment) => {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: "ignore" })
  return fs.readFileSync(`${file}.pub`, "utf8").trim()
}

/** known_hosts line for [127.0.0.1]:port with the given public key line. */
const knownHostsLine = (port, pub) => `[127.0.0.1]:${port} ${pub.split(" ").slice(0, 2).join(" ")}\n`

/**
 * Starts sshd. Options: `dir` (a directory to use; default a fresh temp dir), `allowTcpForwarding`
 * (default "yes"; "no" lets a test see a refused forward), `readyTimeoutMs` (default 10000).
 */
export async function startSshd(options = {}) {
  const reason = sshdUnavailable()
  if (reason !== undefined) throw new Error(`cannot start the test sshd: ${reason}`)
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "oc-sshd-"))
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 })
  const hostKey = path.join(dir, "host_ed25519")
  const clientKey = path.join(dir, "client_ed25519")
  const hostPub = keygen(hostKey, "openclaw-test-host")
  const clientPub = keygen(clientKey, "openclaw-test-client")
  const authorizedKeys = path.join(dir, "authorized_keys")
  fs.writeFileSync(authorizedKeys, `${clientPub}\n`, { mode: 0o600 })
  const port = await freePort()
  const knownHostsFile = path.join(dir, "known_hosts")
  fs.writeFileSync(knownHostsFile, knownHostsLine(port, hostPub))
  const config = path.join(dir, "sshd_config")
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "UsePAM no",
      "StrictModes no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      `AllowTcpForwarding ${options.allowTcpForwarding ?? "yes"}`,
      "X11Forwarding no",
      "PrintMotd no",
      "LogLevel VERBOSE",
      ""
    ].join("\n")
  )
  const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] })
  let log = ""
  child.stderr.on("data", (d) => {
    if (log.length < 1_000_000) log += d
  })
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)))
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`sshd did not start within ${options.readyTimeoutMs ?? 10_000} ms:\n${log}`)),
      options.readyTimeoutMs ?? 10_000
    )
    const check = () => {
      if (/Server listening on 127\.0\.0\.1 port/.test(log)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stderr.on("data", check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`sshd exited (${code}) before listening:\n${log}`))
    })
  })
  const user = os.userInfo().username
  return {
    dir,
    host: "127.0.0.1",
    port,
    user,
    pid: child.pid,
    /** `user@127.0.0.1:port`, the form gateway.remote.sshTarget takes. */
    sshTarget: `${user}@127.0.0.1:${port}`,
    /** The client's private key (gateway.remote.sshIdentity). */
    identity: clientKey,
    /** A known_hosts file trusting this server's host key (gateway.remote.sshKnownHostsFile). */
    knownHostsFile,
    hostPublicKey: hostPub,
    /** A known_hosts file that lists ANOTHER key for this server (a changed host key). */
    wrongKnownHostsFile() {
      const file = path.join(dir, "known_hosts.wrong")
      if (!fs.existsSync(file))
        fs.writeFileSync(file, knownHostsLine(port, keygen(path.join(dir, "other_host_ed25519"), "not-this-host")))
      return file
    },
    /** A key the server does not accept. */
    strangerIdentity() {
      const file = path.join(dir, "stranger_ed25519")
      if (!fs.existsSync(file)) keygen(file, "stranger")
      return file
    },
    log: () => log,
    /** Stops sshd (and, with it, the sessions it started) and removes `dir` unless it was given. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM")
        const t = setTimeout(() => child.kill("SIGKILL"), 3_000)
        await exited
        clearTimeout(t)
      }
      if (options.dir === undefined) fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
