/**
 * The app's own code: it asks the Gateway it runs in for its health and status through the typed
 * client, and calls its own method (src/notes.ts). It needs a Gateway in its context, whichever layer gives it (main.ts: the real services;
 * test/app.test.ts: GatewayTest from openclaw-gateway-effect/testing).
 */
import { Effect } from "effect"
import { Gateway, GatewayClient } from "openclaw-gateway-effect"
import { NotesGroup } from "./notes.js"

export const describeGateway = (token: string) =>
  Effect.gen(function* () {
    const gateway = yield* Gateway
    const conn = yield* GatewayClient.connect({ url: gateway.url, token, scopes: ["operator.read"] })
    // `health` is typed: result is HealthResult, not unknown.
    const health = yield* conn.request("health")
    const status = yield* conn.request("status")
    return `Gateway ${health.version} at ${gateway.url}: ok=${health.ok}, protocol ${status.protocol}, exposure ${JSON.stringify(status.exposure)}`
  }).pipe(Effect.scoped)

/** Adds a note through the app's own method, typed by its contract group (src/notes.ts). */
export const addNote = (token: string, text: string) =>
  Effect.gen(function* () {
    const gateway = yield* Gateway
    const conn = yield* GatewayClient.connect({ url: gateway.url, token, scopes: ["operator.write"] })
    const notes = GatewayClient.typed(NotesGroup, conn)
    const { id } = yield* notes.request("notes.add", { text })
    return `note ${id}: ${text}`
  }).pipe(Effect.scoped)
