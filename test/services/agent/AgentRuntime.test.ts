/**
 * AgentRuntime on the Effect Clock: run timestamps and the 10 minutes a finished run is kept for
 * agent.wait run on TestClock (the Gateway built inside the test, so its layers share the test's clock).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
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
})
