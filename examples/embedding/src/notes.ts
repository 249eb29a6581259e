/**
 * The app's own Gateway methods: a contract group (each method's params Schema, result Schema and
 * scope, declared once) and the layer that implements exactly that group. Clients take their types
 * from the same declaration (GatewayClient.typed, or testClientFor in tests).
 */
import { Effect, Layer, Schema } from "effect"
import { Gateway, Method, MethodGroup } from "openclaw-gateway-effect"

export const NotesGroup = MethodGroup.make({
  "notes.add": Method.make({
    requires: "operator.write",
    // Decoding trims the text and refuses a blank one (INVALID_REQUEST naming params.text).
    params: Schema.Struct({ text: Schema.Trim.pipe(Schema.nonEmptyString()) }),
    result: Schema.Struct({ id: Schema.Number, count: Schema.Number })
  }),
  "notes.list": Method.make({ requires: "operator.read", result: Schema.Array(Schema.String) })
})

/** Registers the notes methods with the Gateway for as long as the layer lives. */
export const NotesMethods = Layer.scopedDiscard(
  Effect.gen(function* () {
    const gateway = yield* Gateway
    const notes: Array<string> = []
    yield* gateway.registerGroup(NotesGroup, {
      // The params arrive decoded: `text` is trimmed and not empty.
      "notes.add": ({ text }) =>
        Effect.sync(() => {
          notes.push(text)
          return { id: notes.length, count: notes.length }
        }),
      "notes.list": { sync: () => [...notes] }
    })
  })
)
