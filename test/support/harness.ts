/**
 * The test harness, shipped as `openclaw-gateway-effect/testing` (src/testing.ts): our own tests
 * import it from here so that they read like an embedder's.
 */
export * from "../../src/testing.js"
