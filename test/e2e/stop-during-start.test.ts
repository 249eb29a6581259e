/**
 * A stop at any instant of start-up withdraws what was created: the real `openclaw gateway run`
 * with the fake `tailscale` (each call slowed a little, to widen the windows between steps) is
 * signalled (TERM, INT, HUP) at many instants around `serve --bg` / `funnel --bg`; afterwards the
 * fake holds no route of ours and the Gateway's port is free.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, cliEnv, freePort, tempStateDir } from "../support/cli.js"
import { fakeTailscale } from "../support/tailscale.js"

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer()
    s.once("error", () => resolve(false))
    s.listen({ host: "127.0.0.1", port, exclusive: true }, () => s.close(() => resolve(true)))
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Outcome {
  readonly label: string
  readonly route: unknown
  readonly portFree: boolean
  readonly output: string
}

/** Starts a Gateway, signals it `delayMs` after the fake recorded the `<mode> --bg` call, and reports what is left. */
const stopDuringStart = async (mode: "serve" | "funnel", signal: NodeJS.Signals, delayMs: number): Promise<Outcome> => {
  const dir = tempStateDir()
  const port = await freePort()
  const auth =
    mode === "funnel"
      ? { mode: "password", password: "correct horse battery staple" }
      : { token: "stop-during-start-token-0123456789" }
  fs.writeFileSync(
    path.join(dir, "openclaw.json"),
    JSON.stringify({ gateway: { port, auth, tailscale: { mode, resetOnExit: true } } })
  )
  const fake = fakeTailscale(dir, { delayMs: 120 })
  const env = cliEnv(dir, { ...fake.env, OPENCLAW_TAILSCALE_TIMEOUT_MS: "8000" })
  const child = spawn(BIN, ["gateway", "run"], { env, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout.on("data", (d) => (output += d))
  child.stderr.on("data", (d) => (output += d))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const deadline = Date.now() + 15_000
  while (!fake.calls().some((c) => c.startsWith(`${mode} --bg`))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no \`${mode} --bg\` call:\n${output}`)
    await sleep(5)
  }
  await sleep(delayMs)
  child.kill(signal)
  await exited
  // Funnel's route is the same Web handler, with AllowFunnel beside it.
  const serve = fake.read().serve ?? {}
  return {
    label: `${mode} ${signal} +${delayMs}ms`,
    route: serve.Web ?? serve.AllowFunnel ?? serve.TCP,
    portFree: await portIsFree(port),
    output
  }
}

describe("a stop during start-up withdraws the Tailscale route and frees the port", () => {
  it("serve and funnel; TERM, INT, HUP; at 24 instants around `--bg`", { timeout: 240_000 }, async () => {
    const outcomes: Array<Outcome> = []
    for (const mode of ["serve", "funnel"] as const)
      for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
        for (const delayMs of [0, 140, 220, 330]) outcomes.push(await stopDuringStart(mode, signal, delayMs))
    const left = outcomes.filter((o) => o.route !== undefined || !o.portFree)
    expect(
      left.map((o) => `${o.label}: route ${JSON.stringify(o.route)}, port free ${o.portFree}\n${o.output}`)
    ).toEqual([])
    expect(outcomes.length).toBeGreaterThanOrEqual(18)
  })
})
