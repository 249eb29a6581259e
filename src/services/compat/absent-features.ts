/**
 * Reads of OpenClaw features this Gateway does not have (cron, tasks, progress cards, approvals,
 * talk) that OpenClaw's Control UI calls on its chat and home screens. Each answers what is true
 * here, an empty list or an empty catalog, where OpenClaw's UI reads an empty answer as "none"
 * (each comment names the screen). Every other method of those features (cron.add, tasks.get,
 * talk.client.create, ...) still answers "not supported by this Gateway" (unsupported-methods.ts).
 */
import type { AbsentFeatureGroup } from "../../protocol/contracts/compat.js"
import type { GroupHandlers } from "../gateway/api.js"

// Their UI sends filters, cursors and sort orders (contracts/compat.ts): with nothing to filter, none matters.
const empty = (answer: () => unknown) => ({ sync: answer })

export const absentFeatureMethods = (): GroupHandlers<typeof AbsentFeatureGroup> => ({
  // Automations page and the command palette: no jobs, and a scheduler that is off.
  "cron.list": empty(() => ({ jobs: [], total: 0, offset: 0, limit: 0, hasMore: false, nextOffset: null })),
  "cron.status": empty(() => ({ enabled: false, jobs: 0, nextWakeAtMs: null })),
  // Chat's task panel: no background tasks run here.
  "tasks.list": empty(() => ({ tasks: [] })),
  // Chat's progress card: none (the agent never writes one).
  "progressCard.get": empty(() => ({ card: null })),
  // The approvals queue (their UI reads each list as an array): the agent never asks for approval.
  "exec.approval.list": empty(() => []),
  "plugin.approval.list": empty(() => []),
  "openclaw.approval.list": empty(() => []),
  // The talk button: no voice providers, so their UI shows talk as unavailable.
  "talk.catalog": empty(() => ({
    modes: [],
    transports: [],
    brains: [],
    speech: { providers: [] },
    transcription: { ready: false, providers: [] },
    realtime: { ready: false, activeProvider: null, providers: [] }
  }))
})
