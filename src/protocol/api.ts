/** The wire protocol (`Protocol.*`): frames, limits and codes, the built-in method groups and the typed method map. */
export * from "./frames.js"
export type * from "./methods.js"
export * from "./contracts/index.js"
export { HealthResult, PresenceEntry, StatusResult } from "./contracts/core.js"
