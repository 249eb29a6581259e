/** TLS fixtures: a self-signed certificate made by openssl, and an impostor TLS server. */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as tls from "node:tls"
import { tempStateDir } from "./cli.js"

/** The SHA-256 fingerprint openssl prints for a certificate file (uppercase colon hex). */
export const opensslFingerprint = (certFile: string) =>
  execFileSync("openssl", ["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"], { encoding: "utf8" })
    .trim()
    .split("=")[1]!

/** A fresh P-256 key (k.pem) and self-signed certificate (c.pem) for `cn` in a new temp dir. */
export const selfSignedCertificate = (cn: string): string => {
  const dir = tempStateDir()
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      path.join(dir, "k.pem"),
      "-out",
      path.join(dir, "c.pem"),
      "-subj",
      `/CN=${cn}`,
      "-days",
      "2"
    ],
    { stdio: "ignore" }
  )
  return dir
}

/** A TLS server with its own certificate that counts the connections and application bytes it receives. */
export const impostor = async () => {
  const dir = selfSignedCertificate("impostor")
  const counts = { connections: 0, bytes: 0 }
  const server = tls.createServer(
    { key: fs.readFileSync(path.join(dir, "k.pem")), cert: fs.readFileSync(path.join(dir, "c.pem")) },
    (socket) => {
      socket.on("data", (d) => (counts.bytes += d.length))
      socket.on("error", () => {})
    }
  )
  server.on("connection", () => counts.connections++)
  server.on("tlsClientError", () => {})
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port))
  )
  return {
    port,
    counts,
    fingerprint: opensslFingerprint(path.join(dir, "c.pem")),
    close: () => new Promise<void>((r) => server.close(() => r()))
  }
}
