/** The app's code against the harness the library ships: a Gateway on port 0, state in memory. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TailscaleCli } from "openclaw-gateway-effect"
import {
  fakeTailscale,
  GatewayTest,
  GatewayTestWith,
  TEST_TOKEN,
  TestClient,
  testClientFor
} from "openclaw-gateway-effect/testing"
import { addNote, describeGateway } from "../src/app.js"
import { NotesGroup, NotesMethods } from "../src/notes.js"

describe("the embedding app", () => {
  it.layer(GatewayTestWith({ exposure: { mode: "serve", state: "active", url: "https://gw.example.ts.net/" } }))(
    "over GatewayTest",
    (it) => {
      it.effect("describes the Gateway it runs in", () =>
        Effect.gen(function* () {
          const line = yield* describeGateway(TEST_TOKEN)
          expect(line).toMatch(/^Gateway .* ok=true, protocol 4, exposure .*"state":"active"/)
        })
      )

      it.effect("and the harness's own client is connected", () =>
        Effect.gen(function* () {
          const client = yield* TestClient
          expect((yield* client.request("health")).ok).toBe(true)
        })
      )
    }
  )

  // The app's own methods over the harness: called typed through the harness's client.
  it.layer(NotesMethods.pipe(Layer.provideMerge(GatewayTest)))("its notes methods", (it) => {
    it.effect("add and list notes, typed by NotesGroup", () =>
      Effect.gen(function* () {
        const client = yield* testClientFor(NotesGroup)
        const added = yield* client.request("notes.add", { text: "  first  " })
        expect(added).toEqual({ id: 1, count: 1 })
        expect(yield* addNote(TEST_TOKEN, "second")).toBe("note 2: second")
        const notes: ReadonlyArray<string> = yield* client.request("notes.list")
        expect(notes).toEqual(["first", "second"])
      })
    )

    it.effect("a blank note is refused by its params Schema", () =>
      Effect.gen(function* () {
        const client = yield* testClientFor(NotesGroup)
        const error = yield* Effect.flip(client.request("notes.add", { text: " " }))
        expect(error.serverCode).toBe("INVALID_REQUEST")
      })
    )
  })

  it.effect("fakeTailscale remembers the routes it was asked for", () =>
    Effect.gen(function* () {
      const cli = yield* TailscaleCli
      yield* cli.enable("serve", 443, "http://127.0.0.1:8080")
      expect((yield* cli.serveStatus).routes).toMatchObject([{ httpsPort: 443, target: "http://127.0.0.1:8080" }])
    }).pipe(Effect.provide(fakeTailscale()))
  )
})
