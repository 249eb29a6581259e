/**
 * The Gateway's TLS certificate: the user's own (gateway.tls.certPath/keyPath), or a self-signed
 * one generated once into <stateDir>/gateway/tls/ and reused on later starts. The key is made by
 * Node's crypto and written 0600 into a 0700 directory; the `openssl` binary only signs the
 * certificate (it gets file paths, never a secret, on its command line).
 */
import { execFile } from "node:child_process"
import { generateKeyPairSync } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { certificateFingerprint } from "../../platform/tls-fingerprint.js"
import * as tls from "node:tls"
import { Data, Effect } from "effect"
import { stateDirOnDisk, tlsFiles } from "../../config/settings.js"
import type { GatewaySettings } from "../config/GatewayConfig.js"
import { TLS_REQUIRED_HEADER, TLS_REQUIRED_VALUE } from "../../protocol/frames.js"

export class TlsSetupError extends Data.TaggedError("TlsSetupError")<{
  readonly message: string
  /** The user's own gateway.tls.certPath/keyPath is at fault: a configuration error (exit 78). */
  readonly config?: boolean
}> {}

export interface ServerTls {
  readonly context: tls.SecureContext
  /** SHA-256 of the certificate, uppercase colon hex (as `openssl x509 -fingerprint -sha256` prints it). */
  readonly fingerprint: string
  readonly certPath: string
  /** "auto-generated" (new this start), "auto-generated, reused", or "gateway.tls.certPath". */
  readonly source: string
}

export { certificateFingerprint }

const errorCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e)

const describeFileError = (e: unknown) => {
  const code = errorCode(e)
  return code === "ENOENT"
    ? "no such file (ENOENT)"
    : code === "EACCES"
      ? `permission denied for this user (EACCES)`
      : code === "EISDIR"
        ? "it is a directory (EISDIR)"
        : code
}

const runOpenssl = (args: ReadonlyArray<string>) =>
  Effect.async<void, TlsSetupError>((resume) => {
    execFile("openssl", [...args], { timeout: 20_000 }, (error, _stdout, stderr) => {
      if (error === null) return resume(Effect.void)
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT"
      const last = stderr.trim().split("\n").pop()?.slice(0, 200) ?? ""
      resume(
        Effect.fail(
          new TlsSetupError({
            message: missing
              ? "gateway.tls.autoGenerate needs the `openssl` binary to sign a certificate and it is not installed (apt-get install openssl), or set gateway.tls.certPath and gateway.tls.keyPath"
              : `openssl could not create the Gateway certificate${last ? `: ${last}` : ""}`
          })
        )
      )
    })
  })

/** Creates key + self-signed certificate; files appear under their final names only when complete. */
const generate = (dir: string, certPath: string, keyPath: string) =>
  Effect.gen(function* () {
    yield* Effect.try({
      try: () => {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
        fs.chmodSync(dir, 0o700)
      },
      catch: (e) => new TlsSetupError({ message: `cannot create ${dir} for the Gateway certificate: ${errorCode(e)}` })
    })
    const tmpKey = `${keyPath}.${process.pid}.tmp`
    const tmpCert = `${certPath}.${process.pid}.tmp`
    yield* Effect.try({
      try: () => {
        const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" })
        // Created anew (O_EXCL): never written through a link left at the temporary names.
        for (const tmp of [tmpKey, tmpCert]) fs.rmSync(tmp, { force: true })
        fs.writeFileSync(tmpKey, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" })
      },
      catch: (e) => new TlsSetupError({ message: `cannot write the Gateway key in ${dir}: ${errorCode(e)}` })
    })
    const host = os.hostname().replace(/[^A-Za-z0-9.-]/g, "")
    const san = ["DNS:localhost", ...(host ? [`DNS:${host}`] : []), "IP:127.0.0.1", "IP:::1"].join(",")
    yield* runOpenssl([
      "req",
      "-x509",
      "-new",
      "-sha256",
      "-days",
      "3650",
      "-key",
      tmpKey,
      "-out",
      tmpCert,
      "-subj",
      "/CN=openclaw-gateway",
      "-addext",
      `subjectAltName=${san}`
    ]).pipe(Effect.tapError(() => Effect.sync(() => fs.rmSync(tmpKey, { force: true }))))
    yield* Effect.try({
      try: () => {
        fs.renameSync(tmpKey, keyPath)
        fs.renameSync(tmpCert, certPath)
      },
      catch: (e) => new TlsSetupError({ message: `cannot store the Gateway certificate in ${dir}: ${errorCode(e)}` })
    })
  })

const readPair = (certPath: string, keyPath: string, certKey: string, keyKey: string) =>
  Effect.try({
    try: () => ({ cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) }),
    catch: (e) => {
      const which = fs.existsSync(certPath) ? `${keyKey} ${keyPath}` : `${certKey} ${certPath}`
      const own = certKey === "gateway.tls.certPath"
      return new TlsSetupError({
        message: `cannot read ${which}: ${describeFileError(e)}${own ? "; point gateway.tls.certPath and gateway.tls.keyPath at readable PEM files, or remove both to use an auto-generated certificate" : ""}`,
        config: own
      })
    }
  })

/** Loads (or, with autoGenerate, first creates) the certificate and a TLS 1.3-only context. */
export const loadServerTls = (settings: GatewaySettings): Effect.Effect<ServerTls, TlsSetupError> =>
  Effect.gen(function* () {
    const own = settings.tls.certPath !== undefined && settings.tls.keyPath !== undefined
    const stateDir = stateDirOnDisk(settings)
    if (!own && stateDir === undefined) {
      // Generating means writing a key; without a state dir nothing is written anywhere.
      return yield* new TlsSetupError({
        message:
          "gateway.tls.autoGenerate needs a state directory to keep the generated certificate in: pass stateDir, or set gateway.tls.certPath and gateway.tls.keyPath",
        config: true
      })
    }
    const files = own ? { dir: "", cert: settings.tls.certPath!, key: settings.tls.keyPath! } : tlsFiles(stateDir!)
    let source = own ? "gateway.tls.certPath" : "auto-generated, reused"
    if (!own && !(fs.existsSync(files.cert) && fs.existsSync(files.key))) {
      yield* generate(files.dir, files.cert, files.key)
      source = "auto-generated"
    }
    const { cert, key } = yield* readPair(
      files.cert,
      files.key,
      own ? "gateway.tls.certPath" : "the generated certificate",
      own ? "gateway.tls.keyPath" : "the generated key"
    )
    const fingerprint = yield* Effect.try({
      try: () => certificateFingerprint(cert),
      catch: () =>
        new TlsSetupError({
          message: `${files.cert} is not a PEM certificate${own ? " (gateway.tls.certPath)" : ""}`,
          config: own
        })
    })
    const context = yield* Effect.try({
      try: () => tls.createSecureContext({ cert, key, minVersion: "TLSv1.3" }),
      catch: (e) =>
        new TlsSetupError({
          message: `cannot use the certificate ${files.cert} with the key ${files.key}: ${String((e as Error).message ?? e).replace(/^error:\w+:/, "")}${own ? " (check gateway.tls.certPath and gateway.tls.keyPath belong together)" : `; delete ${path.dirname(files.cert)} to generate a fresh pair`}`,
          config: own
        })
    })
    return { context, fingerprint, certPath: files.cert, source }
  })

/** The first byte of every TLS connection: a handshake record. */
const TLS_HANDSHAKE_RECORD = 0x16

/**
 * For a connection to the TLS port whose first bytes are not a TLS handshake (plain http:// or
 * ws://): a short HTTP 400 that says to use https:// / wss://, instead of a bare reset. Undefined
 * when the bytes are a TLS handshake. The Host header is echoed only when it looks like host[:port].
 */
export const plaintextOnTlsPortResponse = (firstChunk: Buffer): string | undefined => {
  if (firstChunk.length === 0 || firstChunk[0] === TLS_HANDSHAKE_RECORD) return undefined
  const host = /^host:[ \t]*([A-Za-z0-9.\-:[\]]{1,255})[ \t]*$/im.exec(firstChunk.toString("latin1"))?.[1]
  const where = host === undefined ? "this address" : host
  const body = `This OpenClaw Gateway only speaks TLS (gateway.tls.enabled): open https://${where}/ in a browser, or connect with wss://${where}.\n`
  return [
    "HTTP/1.1 400 Bad Request",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    `${TLS_REQUIRED_HEADER}: ${TLS_REQUIRED_VALUE}`,
    "Connection: close",
    "",
    body
  ].join("\r\n")
}
