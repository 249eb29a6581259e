/** OpenClaw's Gateway methods that this one does not implement, and the error a call to one gets. */
import { shortened } from "../../protocol/client-text.js"
import { ErrorCode, type ErrorShape } from "../../protocol/frames.js"

/**
 * Method families of OpenClaw's Gateway that this one does not implement (channels, cron, skills,
 * plugins, ...): a call answers "not supported by this Gateway" instead of "unknown method".
 */
const UNSUPPORTED_FAMILIES = [
  "approval",
  "artifacts",
  "assistant",
  "attach",
  "audit",
  "board",
  "canvas",
  "channels",
  "claws",
  "commands",
  "computer",
  "config.apply",
  "config.openFile",
  "config.patch",
  "config.schema",
  "config.set",
  "controlUi",
  "conversations",
  "cron",
  "desktop",
  "device.pair.setup",
  "device.scopes",
  "diagnostics",
  "doctor",
  "environments",
  "exec.approval",
  "exec.approvals",
  "fs",
  "gateway.identity",
  "gateway.restart",
  "gateway.suspend",
  "hooks",
  "last-heartbeat",
  "mcp",
  "memory",
  "mentions",
  "message",
  "migrations",
  "models",
  "nativeHook",
  "openclaw",
  "plugin",
  "plugins",
  "poll",
  "portal",
  "progressCard",
  "projects",
  "push",
  "question",
  "secrets",
  "session",
  "sessions.abort",
  "sessions.activitySummary",
  "sessions.assignOwner",
  "sessions.branches",
  "sessions.catalog",
  "sessions.cleanup",
  "sessions.companion",
  "sessions.compact",
  "sessions.create",
  "sessions.delete",
  "sessions.diff",
  "sessions.dispatch",
  "sessions.files",
  "sessions.fork",
  "sessions.get",
  "sessions.github",
  "sessions.goal",
  "sessions.groups",
  "sessions.move",
  "sessions.observer",
  "sessions.patch",
  "sessions.patchMany",
  "sessions.pluginPatch",
  "sessions.preview",
  "sessions.providerReview",
  "sessions.reclaim",
  "sessions.recover",
  "sessions.reset",
  "sessions.resolve",
  "sessions.rewind",
  "sessions.search",
  "sessions.send",
  "sessions.setInvolvement",
  "sessions.steer",
  "sessions.storage",
  "sessions.title",
  "sessions.usage",
  "sessions.viewers",
  "set-heartbeats",
  "skills",
  "system-event",
  "talk",
  "taskSuggestions",
  "tasks",
  "terminal",
  "themes",
  "tools",
  "transcripts",
  "tts",
  "ui.command",
  "update",
  "usage",
  "users",
  "voicewake",
  "wake",
  "web",
  "webSearch",
  "wizard",
  "worker",
  "worktrees",
  "agents.create",
  "agents.update",
  "agents.delete",
  "agents.files",
  "agents.workspace",
  "chat.message",
  "chat.inject",
  "chat.toolTitles",
  "node.pending",
  "node.rename",
  "node.describe",
  "device.token",
  "device.pair.rename"
]
const families = new Set(UNSUPPORTED_FAMILIES)

/** The error message for a method of OpenClaw's that this Gateway does not implement, else undefined. */
export const unsupportedMethod = (method: string): string | undefined => {
  if (method.length > 200) return undefined
  let name = method
  for (;;) {
    if (families.has(name)) {
      return `${method} is not supported by this Gateway (openclaw-gateway-effect implements OpenClaw's remote access, chat with one agent and nodes; not ${name.split(".")[0]})`
    }
    const dot = name.lastIndexOf(".")
    if (dot <= 0) return undefined
    name = name.slice(0, dot)
  }
}

/** The answer to a method that is not registered: "not supported" for OpenClaw's, else "unknown method". */
export const unknownMethodError = (method: string): ErrorShape => {
  const message = unsupportedMethod(method)
  return message === undefined
    ? { code: ErrorCode.invalidRequest, message: `unknown method: ${shortened(method)}` }
    : { code: ErrorCode.invalidRequest, message, details: { code: "METHOD_NOT_SUPPORTED", method } }
}
