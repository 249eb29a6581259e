/** auth.signInCode.create writes an audit entry naming who asked for a code, never the code itself. */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { AuditLog } from "../../../src/services/audit-log/AuditLog.js"
import { GatewayTest, TestClient } from "../../support/harness.js"

describe("auth.signInCode.create", () => {
  it.layer(GatewayTest)((it) => {
    it.effect("each code minted is an audit entry: by whom, never the code", () =>
      Effect.gen(function* () {
        const client = yield* TestClient
        const minted = (yield* client.request("auth.signInCode.create")) as { code: string }
        expect(minted.code).toMatch(/^[A-Za-z0-9_-]{16,}$/)
        const entries = (yield* AuditLog).tail({ limit: 50 }).filter((e) => e.event === "signin.code")
        expect(entries).toHaveLength(1)
        expect(entries[0]).toMatchObject({
          by: expect.stringMatching(/^test-client \([0-9a-f-]{8}\)$/),
          role: "operator"
        })
        expect(JSON.stringify(entries)).not.toContain(minted.code)
      })
    )
  })
})
