/**
 * The agent from the real CLI against a real Gateway process: `gateway agent` streams the reply as
 * it arrives, `gateway send` delivers without a run, `gateway call agent --expect-final` waits for
 * the second response, and sessions survive a Gateway restart (and a torn last line).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type FakeModel, slowModel } from "../support/fake-model.js"
import { BIN, cliEnv, freePort, type GatewayProcess, runCli, startGateway, tempStateDir } from "../support/cli.js"

const TOKEN = "agent-cli-token-3b9f0c2e7d1a"

describe("gateway agent / send / call agent", () => {
  let stateDir: string
  let env: NodeJS.ProcessEnv
  let gw: GatewayProcess

  beforeAll(async () => {
    stateDir = tempStateDir()
    fs.writeFileSync(
      path.join(stateDir, "openclaw.json"),
      JSON.stringify({ gateway: { port: await freePort(), auth: { token: TOKEN } } })
    )
    env = cliEnv(stateDir)
    gw = await startGateway([], env)
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it("gateway agent streams the reply to the terminal in pieces as it arrives", async () => {
    const child = spawn(BIN, ["gateway", "agent", "--message", "stream this reply to me please", "--session", "cli"], {
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    const chunks: Array<{ at: number; text: string }> = []
    let stderr = ""
    child.stdout.on("data", (d) => chunks.push({ at: Date.now(), text: d.toString() }))
    child.stderr.on("data", (d) => (stderr += d))
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve))
    expect(stderr).toBe("")
    expect(code).toBe(0)
    expect(chunks.map((c) => c.text).join("")).toBe("Echo: stream this reply to me please\n")
    // The echo provider sends four deltas ~60 ms apart: they reach the terminal as separate writes.
    expect(chunks.length).toBeGreaterThanOrEqual(3)
    expect(chunks[chunks.length - 1]!.at - chunks[0]!.at).toBeGreaterThan(60)
  })

  it("gateway agent --json prints the final response", async () => {
    const r = await runCli(["gateway", "agent", "--message", "json please", "--json"], env)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({
      status: "ok",
      result: { text: "Echo: json please", sessionKey: "main" }
    })
  })

  it("gateway call agent --expect-final returns the final reply; without it, the accepted answer", async () => {
    const final = await runCli(
      ["gateway", "call", "agent", "--params", '{"message":"hi","idempotencyKey":"k1"}', "--expect-final", "--json"],
      env
    )
    expect(final.code).toBe(0)
    const payload = JSON.parse(final.stdout)
    expect(payload).toMatchObject({ status: "ok", result: { text: "Echo: hi" } })
    const accepted = await runCli(
      ["gateway", "call", "agent", "--params", '{"message":"hi","idempotencyKey":"k2"}', "--json"],
      env
    )
    expect(JSON.parse(accepted.stdout)).toMatchObject({ status: "accepted" })
    // The same key again: the first run's result, not a second run.
    const repeat = await runCli(
      ["gateway", "call", "agent", "--params", '{"message":"hi","idempotencyKey":"k1"}', "--expect-final", "--json"],
      env
    )
    expect(JSON.parse(repeat.stdout)).toEqual(payload)
  })

  it("gateway send delivers into a session without running the agent", async () => {
    const r = await runCli(["gateway", "send", "--to", "inbox", "--message", "hello inbox"], env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Delivered to session inbox \(message [0-9a-f-]{36}\); the agent was not run\.\n$/)
    const history = await runCli(
      ["gateway", "call", "chat.history", "--params", '{"sessionKey":"inbox"}', "--json"],
      env
    )
    expect(JSON.parse(history.stdout).messages.map((m: any) => [m.role, m.text, m.source])).toEqual([
      ["user", "hello inbox", "send"]
    ])
  })

  it("a wrong token: exit 1 with the Gateway's message", async () => {
    const r = await runCli(["gateway", "agent", "--message", "x", "--token", "wrong-token-000000"], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("Gateway agent failed: unauthorized")
  })

  it("sessions survive a restart, and a torn last line is skipped with a warning", async () => {
    const file = path.join(stateDir, "sessions", "cli.jsonl")
    expect(fs.existsSync(file)).toBe(true)
    await gw.stop()
    fs.appendFileSync(file, '{"id":"torn","sessionKey":"cli","ro')
    gw = await startGateway([], env)
    expect(gw.output()).toMatch(
      /\[gateway\] warning: .*cli\.jsonl: skipped a torn last line \(\d+ bytes, a write that was cut short\); the 2 message\(s\) before it are kept/
    )
    const history = await runCli(["gateway", "call", "chat.history", "--params", '{"sessionKey":"cli"}', "--json"], env)
    expect(JSON.parse(history.stdout).messages.map((m: any) => m.text)).toEqual([
      "stream this reply to me please",
      "Echo: stream this reply to me please"
    ])
    const again = await runCli(["gateway", "agent", "--message", "after restart", "--session", "cli"], env)
    expect(again.stdout).toBe("Echo: after restart\n")
    const list = await runCli(["gateway", "call", "sessions.list", "--json"], env)
    expect(JSON.parse(list.stdout).sessions.find((s: any) => s.key === "cli")).toMatchObject({ messageCount: 4 })
  })
})

describe("gateway agent with an OpenAI-compatible model", () => {
  let model: FakeModel
  let gw: GatewayProcess
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    // A slow streaming model: one word every 500 ms.
    model = await slowModel(["one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight"], 500)
    const stateDir = tempStateDir()
    const config = {
      gateway: { port: await freePort(), auth: { token: TOKEN } },
      agent: { provider: { kind: "openai", baseUrl: model.baseUrl, model: "slow", apiKeyEnv: "OC_E2E_MODEL_KEY" } }
    }
    fs.writeFileSync(path.join(stateDir, "openclaw.json"), JSON.stringify(config))
    env = cliEnv(stateDir)
    gw = await startGateway([], { ...env, OC_E2E_MODEL_KEY: "sk-e2e-secret-key" })
  })
  afterAll(async () => {
    await gw?.stop()
    model?.close()
  })

  it("start-up and status name the provider, never the key; Ctrl-C aborts the run on the Gateway", async () => {
    expect(gw.output()).toMatch(/Agent:\s+openai-compatible slow at http:\/\/127\.0\.0\.1:\d+\/v1/)
    const status = await runCli(["status"], env)
    expect(status.stdout).toMatch(/Agent:\s+openai-compatible slow/)
    expect(gw.output() + status.stdout).not.toContain("sk-e2e-secret-key")

    const child = spawn(BIN, ["gateway", "agent", "--message", "count slowly", "--session", "slow"], {
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
    const deadline = Date.now() + 10_000
    while (!stdout.includes("two") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(stdout).toContain("one two")
    child.kill("SIGINT")
    await exited
    expect(stderr).toMatch(/Aborted the run [0-9a-f-]{36}\./)
    expect(model.authorizations).toEqual(["Bearer sk-e2e-secret-key"])
    const history = await runCli(
      ["gateway", "call", "chat.history", "--params", '{"sessionKey":"slow"}', "--json"],
      env
    )
    const messages = JSON.parse(history.stdout).messages
    expect(messages).toHaveLength(2)
    expect(messages[1]).toMatchObject({ role: "assistant", aborted: true })
    expect(messages[1].text.startsWith("one two")).toBe(true)
    expect(messages[1].text).not.toContain("eight")
  }, 30_000)
})
