/**
 * Methods OpenClaw's own clients (Control UI, TUI, CLI) call, answered in their shapes: the agent
 * list and identity, config.get (secrets redacted), logs.tail, system.info; reads of features this
 * Gateway has in part (models, chat metadata, update status); and reads of features it does not
 * have at all (cron, tasks, approvals, talk), which answer an empty list or catalog.
 */
import { Schema } from "effect"
import { Method, MethodGroup } from "../contract.js"
import { Count, NonEmptyString } from "../params.js"

const optional = <A, I>(s: Schema.Schema<A, I, never>) => Schema.optionalWith(s, { exact: true })
const read = <P extends Schema.Schema<any, any, never> | undefined = undefined>(params?: P) =>
  Method.make({ requires: "operator.read", params: params as P, result: Schema.Unknown })

export const IdentityParams = Schema.Struct({ agentId: optional(Schema.String) })
export const LogsTailParams = Schema.Struct({
  /** From the previous answer. */
  cursor: optional(Count(Number.MAX_SAFE_INTEGER)),
  limit: Schema.optionalWith(Count(5_000), { exact: true, default: () => 200 }),
  maxBytes: Schema.optionalWith(Count(1024 * 1024), { exact: true, default: () => 256 * 1024 })
})

export const CompatGroup = MethodGroup.make({
  "agents.list": read(),
  "agent.identity.get": read(IdentityParams),
  "question.list": read(),
  "config.get": read(),
  "logs.tail": read(LogsTailParams),
  "system.info": read()
})

const ChatMetadataParams = Schema.Struct({
  agentId: optional(NonEmptyString),
  sessionKey: optional(NonEmptyString),
  authProfileId: optional(NonEmptyString)
})
const ModelsListParams = Schema.Struct({
  agentId: optional(NonEmptyString),
  sessionKey: optional(NonEmptyString),
  provider: optional(NonEmptyString),
  includeDetails: optional(Schema.Boolean),
  preparedOnly: optional(Schema.Boolean),
  refresh: optional(Schema.Boolean),
  view: optional(Schema.String)
})
const AuthStatusParams = Schema.Struct({ refresh: optional(Schema.Boolean), agentId: optional(Schema.String) })
const SessionParams = Schema.Struct({ sessionKey: NonEmptyString, agentId: optional(NonEmptyString) })
const ObserverParams = Schema.Struct({ visible: Schema.Boolean })
const UpdateStatusParams = Schema.Struct({ refreshCheckout: optional(Schema.Boolean) })

export const FeatureGroup = MethodGroup.make({
  "chat.metadata": read(ChatMetadataParams),
  "models.list": read(ModelsListParams),
  "models.authStatus": read(AuthStatusParams),
  "sessions.branches.list": read(SessionParams),
  "sessions.companion.state": read(SessionParams),
  "sessions.observer.visibility": read(ObserverParams),
  "update.status": read(UpdateStatusParams)
})

/** Their UI sends filters, cursors and sort orders; with nothing to filter, none of them matters. */
const AnyParams = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const AbsentFeatureGroup = MethodGroup.make({
  "cron.list": read(AnyParams),
  "cron.status": read(AnyParams),
  "tasks.list": read(AnyParams),
  "progressCard.get": read(AnyParams),
  "exec.approval.list": read(AnyParams),
  "plugin.approval.list": read(AnyParams),
  "openclaw.approval.list": read(AnyParams),
  "talk.catalog": read(AnyParams)
})
