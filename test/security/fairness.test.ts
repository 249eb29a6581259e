/**
 * No client can make another wait, against the real `openclaw gateway run`: one client pipelining
 * an expensive method (doctor scans /proc, reloads the config and runs the security audit) does
 * not delay another client's `health`; past its in-flight limit it is told so, and its connection
 * stays usable. Figures are printed as "[figures] ..." lines; run with
 *   npx vitest run test/security/fairness.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Limits } from "../../src/protocol/frames.js"
import { DOCTOR_CACHE_MS } from "../../src/services/doctor/methods.js"
import { type LiveGateway, startLiveGateway } from "../support/live-gateway.js"

const PIPELINED = 400

describe("one client's pipeline does not make another wait", { timeout: 120_000 }, () => {
  let g: LiveGateway
  beforeAll(async () => void (g = await startLiveGateway()))
  afterAll(async () => void (await g?.stop()))

  it(`${PIPELINED} pipelined doctor calls: another client's health round trip stays well below 1 s; beyond ${Limits.maxRequestsInFlight} in flight the caller gets TOO_MANY_REQUESTS_IN_FLIGHT and its connection stays usable`, async () => {
    const greedy = await g.operator()
    const other = await g.operator()
    // Warm up: one doctor call and one health, so the first measurements are not start-up costs;
    // then past the doctor's cache, so the pipeline starts a fresh run.
    expect((await greedy.request("doctor", {}, "warm")).ok).toBe(true)
    expect((await other.request("health")).ok).toBe(true)
    await new Promise((r) => setTimeout(r, DOCTOR_CACHE_MS + 200))

    const t0 = Date.now()
    for (let i = 0; i < PIPELINED; i++) greedy.send({ type: "req", id: `d${i}`, method: "doctor", params: {} })
    const answered = () => greedy.frames.filter((f) => f.type === "res" && String(f.id).startsWith("d")).length
    const healthMs: Array<number> = []
    while ((answered() < PIPELINED || healthMs.length < 20) && Date.now() - t0 < 60_000) {
      const h0 = performance.now()
      expect((await other.request("health")).ok).toBe(true)
      healthMs.push(performance.now() - h0)
      await new Promise((r) => setTimeout(r, 5))
    }
    const pipelineMs = Date.now() - t0
    const answers = greedy.frames.filter((f) => f.type === "res" && String(f.id).startsWith("d"))
    const ok = answers.filter((f) => f.ok).length
    const limited = answers.filter((f) => !f.ok && f.error?.details?.code === "TOO_MANY_REQUESTS_IN_FLIGHT")
    const steps = answers
      .find((f) => f.ok)
      ?.payload.steps.map((st: { id: string; ms: number }) => `${st.id} ${st.ms} ms`)
    const sorted = [...healthMs].sort((a, b) => a - b)
    const max = sorted.at(-1) ?? 0
    console.log(
      `[figures] ${PIPELINED} pipelined doctor calls answered in ${pipelineMs} ms (${ok} ok, ${limited.length} over the in-flight limit; the shared run's steps: ${steps?.join(", ")}); other client's health: ${healthMs.length} round trips, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${max.toFixed(1)} ms`
    )
    expect(answers.length).toBe(PIPELINED)
    expect(ok + limited.length).toBe(PIPELINED)
    expect(ok).toBeGreaterThanOrEqual(Limits.maxRequestsInFlight)
    expect(limited.length).toBeGreaterThan(0)
    expect(limited[0].error).toMatchObject({ code: "UNAVAILABLE", retryable: true })
    expect(limited[0].error.message).toContain(`at most ${Limits.maxRequestsInFlight}`)
    expect(healthMs.length).toBeGreaterThan(0)
    expect(max).toBeLessThan(750)
    // The greedy connection is still open and served.
    expect(greedy.closed).toBeUndefined()
    expect((await greedy.request("health")).ok).toBe(true)
    expect((await greedy.request("doctor")).ok).toBe(true)
    greedy.ws.close()
    other.ws.close()
    await g.expectServing()
  })
})
