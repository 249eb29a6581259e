declare const __OPENCLAW_VERSION__: string | undefined

/** The package version, inlined at build time (see scripts/build.mjs and vitest.config.ts). */
export const VERSION: string = typeof __OPENCLAW_VERSION__ === "string" ? __OPENCLAW_VERSION__ : "0.0.0-dev"
