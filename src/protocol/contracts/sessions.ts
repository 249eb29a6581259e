/**
 * Session methods in the shapes OpenClaw's own clients (Control UI, TUI) read: sessions.list,
 * sessions.describe, chat.startup, and the subscriptions (subscribers hear `sessions.changed`).
 */
import { Schema } from "effect"
import { Method, MethodGroup } from "../contract.js"
import { Count, SessionKey } from "../params.js"

const NoParams = Schema.Struct({})
const KeyParams = Schema.Struct({ key: SessionKey })
/** Any object: sessions.subscribe answers with the list when the client asked with params. */
const AnyParams = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const StartupParams = Schema.Struct({
  sessionKey: Schema.optionalWith(SessionKey, { exact: true }),
  limit: Schema.optionalWith(Count(1000), { exact: true, default: () => 200 })
})

const Subscribed = Schema.Struct({ subscribed: Schema.Boolean })
const KeySubscribed = Schema.Struct({ subscribed: Schema.Boolean, key: Schema.String })

const read = <P extends Schema.Schema<any, any, never>>(params: P) =>
  Method.make({ requires: "operator.read", params, result: Schema.Unknown })

export const SessionGroup = MethodGroup.make({
  "sessions.list": read(NoParams),
  "sessions.subscribe": read(AnyParams),
  "sessions.unsubscribe": Method.make({ requires: "operator.read", params: NoParams, result: Subscribed }),
  "sessions.messages.subscribe": Method.make({ requires: "operator.read", params: KeyParams, result: KeySubscribed }),
  "sessions.messages.unsubscribe": Method.make({ requires: "operator.read", params: KeyParams, result: KeySubscribed }),
  "sessions.describe": read(KeyParams),
  "chat.startup": read(StartupParams)
})
