/**
 * A real `openclaw gateway run` child process for hostile-input tests and the protocol fuzzer: a
 * crash is only observable in a process of its own. It knows this machine's node identity (so a
 * node connecting from loopback with it is paired at once) and checks that it still serves.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { expect } from "vitest"
import { cliEnv, freePort, type GatewayProcess, startGateway, tempStateDir } from "./cli.js"
import { authenticated, RawClient, TOKEN } from "./gateway.js"
import { newIdentity, nodeConnect, type TestIdentity, writeIdentity } from "./node.js"

export const ALL_SCOPES = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.pairing",
  "operator.approvals"
]

export interface LiveGateway {
  readonly process: GatewayProcess
  readonly url: string
  readonly stateDir: string
  /** The identity the Gateway treats as its own machine's node host (paired on connect). */
  readonly nodeIdentity: TestIdentity
  /** The process is still running (exit code and signal otherwise, with its output). */
  readonly alive: () => boolean
  readonly operator: (scopes?: ReadonlyArray<string>) => Promise<RawClient>
  /** A paired node declaring `commands`, its connection answered by the caller. */
  readonly node: (commands?: ReadonlyArray<string>, displayName?: string) => Promise<RawClient>
  /** Fails the test unless the process runs and a fresh client gets a health answer. */
  readonly expectServing: () => Promise<void>
  readonly stop: () => Promise<void>
}

/** `gateway`: more of the config file's gateway section (its auth.token is TOKEN). */
export const startLiveGateway = async (
  args: ReadonlyArray<string> = [],
  gateway: { auth?: Record<string, unknown>; [key: string]: unknown } = {}
): Promise<LiveGateway> => {
  const stateDir = tempStateDir()
  fs.writeFileSync(
    path.join(stateDir, "openclaw.json"),
    JSON.stringify({ gateway: { ...gateway, auth: { token: TOKEN, ...gateway.auth } } })
  )
  const nodeIdentity = newIdentity()
  writeIdentity(stateDir, nodeIdentity)
  const gw = await startGateway(["--port", String(await freePort()), ...args], cliEnv(stateDir))
  const url = `ws://127.0.0.1:${gw.port}`
  const alive = () => gw.child.exitCode === null && gw.child.signalCode === null
  const live: LiveGateway = {
    process: gw,
    url,
    stateDir,
    nodeIdentity,
    alive,
    operator: (scopes = ALL_SCOPES) => authenticated(url, { scopes }),
    node: async (commands = ["echo", "slow"], displayName = "fuzz-node") => {
      const { client, res } = await nodeConnect(url, nodeIdentity, { commands, displayName })
      if (!res.ok) throw new Error(`node connect failed: ${JSON.stringify(res.error)}`)
      return client
    },
    expectServing: async () => {
      expect(
        alive(),
        `the Gateway exited (code ${gw.child.exitCode}, signal ${gw.child.signalCode}):\n${gw.output().slice(-4000)}`
      ).toBe(true)
      const c = await authenticated(url)
      try {
        expect((await c.request("health")).ok).toBe(true)
      } finally {
        c.ws.close()
      }
    },
    stop: async () => {
      await gw.stop()
      fs.rmSync(stateDir, { recursive: true, force: true })
    }
  }
  return live
}

/** `[[[...1...]]]`, `depth` levels deep, as JSON text. */
export const nestedJson = (depth: number, leaf = "1") => `${"[".repeat(depth)}${leaf}${"]".repeat(depth)}`

/** Sends a request written as JSON text (so it can hold what JSON.stringify would never write). */
export const sendRaw = (client: RawClient, text: string) => client.ws.send(text)

export { RawClient }
