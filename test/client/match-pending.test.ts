import { describe, expect, it } from "vitest"
import { matchPending } from "../../src/cli/nodes.js"

const req = (requestId: string, nodeId: string, displayName?: string) => ({
  requestId,
  nodeId,
  ...(displayName ? { displayName } : {}),
  requestedAt: 0,
  expiresAt: 1
})
const pending = [
  req("3f0c1a2b-0000-4000-8000-000000000001", "aaaaaaaa11111111", "laptop"),
  req("3f0c1a2b-1111-4000-8000-000000000002", "bbbbbbbb22222222", "phone"),
  req("9e8d7c6b-2222-4000-8000-000000000003", "cccccccc33333333")
]

describe("nodes approve|reject: which pending request a reference means", () => {
  it("the full id, a unique 8+ character prefix of the request or node id, or the display name", () => {
    expect(matchPending(pending, "9e8d7c6b-2222-4000-8000-000000000003")).toEqual({
      requestId: "9e8d7c6b-2222-4000-8000-000000000003"
    })
    expect(matchPending(pending, "9e8d7c6b")).toEqual({ requestId: "9e8d7c6b-2222-4000-8000-000000000003" })
    expect(matchPending(pending, "3f0c1a2b-1")).toEqual({ requestId: "3f0c1a2b-1111-4000-8000-000000000002" })
    expect(matchPending(pending, "bbbbbbbb")).toEqual({ requestId: "3f0c1a2b-1111-4000-8000-000000000002" })
    expect(matchPending(pending, "laptop")).toEqual({ requestId: "3f0c1a2b-0000-4000-8000-000000000001" })
  })

  it("an ambiguous prefix names the candidates; a short one is refused; an unknown one goes to the Gateway as given", () => {
    const both = matchPending(pending, "3f0c1a2b")
    expect("ambiguous" in both && both.ambiguous.map((r) => r.displayName)).toEqual(["laptop", "phone"])
    for (const short of ["9e8d", "", " "]) expect(matchPending(pending, short)).toEqual({ tooShort: true })
    expect(matchPending([{ ...pending[0]!, displayName: "" }], "")).toEqual({ tooShort: true })
    expect(matchPending(pending, "nope-nope-nope")).toEqual({ requestId: "nope-nope-nope" })
  })
})
