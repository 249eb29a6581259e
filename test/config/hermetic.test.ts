/**
 * A config built in code is all an embedded Gateway uses: OPENCLAW_* variables, the home directory
 * and the working directory of the process are not its own unless the caller passes them, and
 * without a stateDir nothing is written anywhere. Run in a child process over the built package
 * (dist/), with HOME and the working directory empty temporary directories that must stay empty.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { GatewayConfig } from "../../src/index.js"

const dist = path.resolve(__dirname, "../../dist")
/** The effect that dist/index.mjs imports: the script runs in an empty directory, where "effect" resolves to nothing. */
const effectModule = JSON.stringify(
  fs.realpathSync(path.resolve(__dirname, "../../node_modules/effect/dist/esm/index.js"))
)

/** Every file under `dir`, relative to it. */
const filesUnder = (dir: string): Array<string> =>
  fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as Array<string>).sort() : []

/** What the script printed after "RESULT " (the Gateway's own log lines go to stdout too). */
const resultOf = (stdout: string): unknown =>
  JSON.parse(
    stdout
      .split("\n")
      .find((l) => l.startsWith("RESULT "))
      ?.slice("RESULT ".length) ?? "null"
  )

const runScript = (script: string, env: NodeJS.ProcessEnv, cwd: string) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      ["--input-type=module", "-e", script],
      { cwd, env, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr })
    )
  )

/** A Gateway from layerConfig (port 0), called with its own token and with the environment's. */
const embedded = (options: string) => `
  import { Effect, Either } from ${effectModule}
  import { Gateway, GatewayClient, GatewayConfig, gatewayServices, TailscaleExposure } from ${JSON.stringify(`${dist}/index.mjs`)}
  import { fakeTailscale } from ${JSON.stringify(`${dist}/testing.mjs`)}
  const token = "code-token-0123456789abcdef0123456789"
  const program = Effect.gen(function* () {
    const gateway = yield* Gateway
    const own = yield* Effect.either(GatewayClient.connect({ url: gateway.url, token }).pipe(Effect.flatMap((c) => c.request("health"))))
    const fromEnv = yield* Effect.either(GatewayClient.connect({ url: gateway.url, token: process.env.OPENCLAW_GATEWAY_TOKEN }))
    const status = yield* GatewayClient.connect({ url: gateway.url, token }).pipe(Effect.flatMap((c) => c.request("status")))
    console.log("RESULT " + JSON.stringify({
      own: Either.isRight(own) && own.right.ok,
      fromEnv: Either.isRight(fromEnv),
      port: gateway.listeners.port,
      exposure: status.exposure.state
    }))
  })
  const config = GatewayConfig.layerConfig({ gateway: { port: 0, auth: { mode: "token", token }, tailscale: { mode: "serve" } } }, ${options})
  await Effect.runPromise(Effect.scoped(program.pipe(Effect.provide(gatewayServices(config, { tailscale: fakeTailscale() })))))
`

describe("a config built in code", () => {
  const setup = () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "oc-hermetic-"))
    const dirs = {
      home: path.join(root, "home"),
      cwd: path.join(root, "cwd"),
      envState: path.join(root, "env-state"),
      state: path.join(root, "state")
    }
    for (const d of Object.values(dirs)) fs.mkdirSync(d)
    const env = {
      PATH: process.env.PATH,
      HOME: dirs.home,
      OPENCLAW_GATEWAY_TOKEN: "env-token-that-must-not-win-0123456789",
      OPENCLAW_GATEWAY_PORT: "1",
      OPENCLAW_STATE_DIR: dirs.envState,
      OPENCLAW_CONFIG_PATH: path.join(dirs.envState, "openclaw.json"),
      OPENCLAW_AUDIT_MAX_BYTES: "x"
    }
    return { dirs, env }
  }

  it("serves its own token and port 0 with OPENCLAW_GATEWAY_TOKEN/PORT/STATE_DIR set to others, and writes only in its stateDir", async () => {
    const { dirs, env } = setup()
    const out = await runScript(embedded(`{ stateDir: ${JSON.stringify(dirs.state)} }`), env, dirs.cwd)
    expect(out.stderr).toBe("")
    expect(out.code).toBe(0)
    const result = resultOf(out.stdout) as { port: number }
    expect(result).toMatchObject({ own: true, fromEnv: false, exposure: "active" })
    expect(result.port).toBeGreaterThan(1)
    expect({ home: filesUnder(dirs.home), cwd: filesUnder(dirs.cwd), envState: filesUnder(dirs.envState) }).toEqual({
      home: [],
      cwd: [],
      envState: []
    })
    // Its own state dir holds its state: the audit log and the Tailscale route's record at least.
    expect(filesUnder(dirs.state)).toEqual(expect.arrayContaining([path.join("logs", "audit.jsonl")]))
  }, 40_000)

  it("without a stateDir writes nothing at all: not in HOME, not in the working directory, not in OPENCLAW_STATE_DIR", async () => {
    const { dirs, env } = setup()
    const out = await runScript(embedded("{}"), env, dirs.cwd)
    expect(out.stderr).toBe("")
    expect(out.code).toBe(0)
    expect(resultOf(out.stdout)).toMatchObject({ own: true, fromEnv: false, exposure: "active" })
    expect({
      home: filesUnder(dirs.home),
      cwd: filesUnder(dirs.cwd),
      envState: filesUnder(dirs.envState),
      state: filesUnder(dirs.state)
    }).toEqual({ home: [], cwd: [], envState: [], state: [] })
  }, 40_000)

  it("GatewayConfig.layerTest() with the live Tailscale exposure leaves the working directory empty", async () => {
    const { dirs, env } = setup()
    const script = `
      import { Effect } from ${effectModule}
      import { GatewayConfig, gatewayServices, TailscaleExposure } from ${JSON.stringify(`${dist}/index.mjs`)}
      import { fakeTailscale } from ${JSON.stringify(`${dist}/testing.mjs`)}
      const settings = GatewayConfig.layerTest({ tailscale: { mode: "serve", resetOnExit: false } })
      const status = await Effect.runPromise(Effect.scoped(Effect.flatMap(TailscaleExposure, (e) => e.status).pipe(
        Effect.provide(gatewayServices(settings, { tailscale: fakeTailscale() }))
      )))
      console.log("RESULT " + JSON.stringify(status.state))
    `
    const out = await runScript(script, env, dirs.cwd)
    expect(out.stderr).toBe("")
    expect(resultOf(out.stdout)).toBe("active")
    expect({ home: filesUnder(dirs.home), cwd: filesUnder(dirs.cwd) }).toEqual({ home: [], cwd: [] })
  }, 40_000)

  it.effect("uses an environment only when given one, and then as the CLI does", () =>
    Effect.gen(function* () {
      const file = { gateway: { port: 0, auth: { mode: "token" as const, token: "code-token" } } }
      const env = {
        OPENCLAW_GATEWAY_TOKEN: "env-token",
        OPENCLAW_GATEWAY_PORT: "4242",
        OPENCLAW_STATE_DIR: "/tmp/oc-env-state",
        OPENCLAW_TAILSCALE_TIMEOUT_MS: "1234",
        OPENCLAW_AUDIT_KEEP: "7"
      }
      const alone = yield* GatewayConfig.fromConfig(file)
      expect(Redacted.value(alone.auth.token!)).toBe("code-token")
      expect(alone.port).toBe(0)
      expect(alone.stateDir).toBe("(in memory)")
      expect(alone.tailscale.timeoutMs).toBeUndefined()
      const withEnv = yield* GatewayConfig.fromConfig(file, { env })
      expect(Redacted.value(withEnv.auth.token!)).toBe("env-token")
      expect(withEnv).toMatchObject({
        port: 4242,
        stateDir: "/tmp/oc-env-state",
        tailscale: { timeoutMs: 1234 },
        audit: { keep: 7 }
      })
      expect((yield* GatewayConfig.fromConfig(file, { env, stateDir: "/tmp/oc-given" })).stateDir).toBe("/tmp/oc-given")
    })
  )

  it.effect(
    "knobs that were environment variables only are config fields; a relative stateDir or path is refused",
    () =>
      Effect.gen(function* () {
        const s = yield* GatewayConfig.fromConfig({
          gateway: {
            auth: { token: "t" },
            tailscale: { binary: "/opt/ts/tailscale", timeoutMs: 1, retryMs: 2, retryMaxMs: 3, checkMs: 4 },
            audit: { maxBytes: 5, keep: 6 }
          }
        })
        expect(s.tailscale).toMatchObject({
          binary: "/opt/ts/tailscale",
          timeoutMs: 1,
          retryMs: 2,
          retryMaxMs: 3,
          checkMs: 4
        })
        expect(s.audit).toEqual({ maxBytes: 5, keep: 6 })
        const relative = yield* Effect.flip(
          GatewayConfig.fromConfig({ gateway: { auth: { token: "t" } } }, { stateDir: "state" })
        )
        expect(relative.message).toContain("stateDir: expected an absolute path")
        const tls = yield* Effect.either(
          GatewayConfig.fromConfig({
            gateway: { auth: { token: "t" }, tls: { certPath: "~/c.pem", keyPath: "k.pem" } }
          })
        )
        expect(Either.isLeft(tls) && tls.left.message).toContain("gateway.tls.certPath: expected an absolute path")
      })
  )
})
