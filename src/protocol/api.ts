/** The wire protocol (`Protocol.*`): frames, limits and codes, and the typed method map. */
export * from "./frames.js"
export type * from "./methods.js"
