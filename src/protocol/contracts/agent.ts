/**
 * The agent and chat methods of shared/protocol.md: agent (two-phase: an interim
 * {status: "accepted", runId}, then the run's final answer), agent.wait, chat.send, chat.history,
 * chat.abort, and send (a message into a session, no agent run). Side-effecting methods take an
 * idempotencyKey; read methods need operator.read, the others operator.write.
 */
import { Schema } from "effect"
import { Method, MethodGroup } from "../contract.js"
import {
  Count,
  DEFAULT_SESSION_KEY,
  IdempotencyKey,
  MAX_MESSAGE_CHARS,
  NonEmptyString,
  SessionKey,
  Text
} from "../params.js"

const sessionKey = Schema.optionalWith(SessionKey, { exact: true, default: () => DEFAULT_SESSION_KEY })
const message = Text(MAX_MESSAGE_CHARS)

/** agent and chat.send: a message for the agent in a session (default "main"). */
export const AgentParams = Schema.Struct({ message, sessionKey, idempotencyKey: IdempotencyKey })
/** send: a message into a session without running the agent. */
export const SendParams = Schema.Struct({ to: SessionKey, message, idempotencyKey: IdempotencyKey })
export const AgentWaitParams = Schema.Struct({
  runId: NonEmptyString,
  timeoutMs: Schema.optionalWith(Count(10 * 60_000), { exact: true, default: () => 30_000 })
})
export const ChatHistoryParams = Schema.Struct({
  sessionKey,
  limit: Schema.optionalWith(Count(1000), { exact: true, default: () => 200 })
})
export const ChatAbortParams = Schema.Struct({ sessionKey, runId: Schema.optionalWith(Schema.String, { exact: true }) })

export const ChatSendResult = Schema.Struct({
  runId: Schema.String,
  status: Schema.Literal("started"),
  sessionKey: Schema.String,
  messageId: Schema.String
})
export const ChatHistoryResult = Schema.Struct({
  sessionKey: Schema.String,
  /** OpenClaw's transcript entries (content blocks, plus text). */
  messages: Schema.Array(Schema.Unknown),
  activeRunIds: Schema.Array(Schema.String)
})
export const ChatAbortResult = Schema.Struct({
  ok: Schema.Literal(true),
  aborted: Schema.Boolean,
  runIds: Schema.Array(Schema.String)
})
export const SendResult = Schema.Struct({ messageId: Schema.String, sessionKey: Schema.String, ts: Schema.Number })

export const AgentGroup = MethodGroup.make({
  agent: Method.make({ requires: "operator.write", params: AgentParams, result: Schema.Unknown }),
  "agent.wait": Method.make({ requires: "operator.read", params: AgentWaitParams, result: Schema.Unknown }),
  "chat.send": Method.make({ requires: "operator.write", params: AgentParams, result: ChatSendResult }),
  "chat.history": Method.make({ requires: "operator.read", params: ChatHistoryParams, result: ChatHistoryResult }),
  "chat.abort": Method.make({ requires: "operator.write", params: ChatAbortParams, result: ChatAbortResult }),
  send: Method.make({ requires: "operator.write", params: SendParams, result: SendResult })
})
