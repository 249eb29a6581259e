/**
 * AgentRuntime on the Effect Clock: run timestamps and the 10 minutes a finished run is kept for
 * agent.wait run on TestClock (the Gateway built inside the test, so its layers share the test's clock).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, TestClock } from "effect"
import { AgentError } from "../../../src/services/agent/providers.js"
import { AgentRuntime, KEEP_FINISHED_MS } from "../../../src/services/agent/AgentRuntime.js"
import { Sessions } from "../../../src/services/sessions/Sessions.js"
import { GatewayTestWith, mockProvider } from "../../support/harness.js"

describe("AgentRuntime on the Clock", () => {
  it.scoped("a finished run is kept for agent.wait exactly KEEP_FINISHED_MS, stamped by the Clock", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust(5_000)
      const agent = yield* AgentRuntime
      const handle = yield* agent.start({ sessionKey: "clocked", message: "hello", source: "chat" })
      const result = yield* Effect.promise(() => handle.done)
      expect(result).toMatchObject({ status: "ok", text: "Hi there", startedAt: 5_000, endedAt: 5_000 })
      expect(handle.userMessage.ts).toBe(5_000)
      const sessions = yield* Sessions
      expect(sessions.history("clocked").map((m) => [m.role, m.ts])).toEqual([
        ["user", 5_000],
        ["assistant", 5_000]
      ])
      yield* TestClock.adjust(KEEP_FINISHED_MS - 1)
      expect(agent.run(handle.runId)?.result).toMatchObject({ status: "ok" })
      yield* TestClock.adjust(1)
      expect(agent.run(handle.runId)).toBeUndefined()
    }).pipe(Effect.provide(GatewayTestWith({ agent: AgentRuntime.layerWith(mockProvider(["Hi ", "there"])) })))
  )

  it.scoped("a run logs through the logger of whoever started it, not the layer's", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const mine = Logger.make(({ message }) => void lines.push(String(message)))
      const agent = yield* AgentRuntime
      const handle = yield* agent
        .start({ sessionKey: "logged", message: "hello", source: "chat" })
        .pipe(Effect.provide(Logger.replace(Logger.defaultLogger, mine)))
      const result = yield* Effect.promise(() => handle.done)
      expect(result.status).toBe("error")
      expect(lines.join("\n")).toContain(`agent run ${handle.runId} (session logged) failed: the model is down`)
    }).pipe(
      Effect.provide(
        GatewayTestWith({
          agent: AgentRuntime.layerWith(mockProvider(new AgentError({ message: "the model is down" })))
        })
      )
    )
  )
})
