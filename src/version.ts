declare const __OPENCLAW_VERSION__: string | undefined

/** The package version, inlined at build time (see scripts/build.mjs and vitest.config.ts). */
export const VERSION: string = typeof __OPENCLAW_VERSION__ === "string" ? __OPENCLAW_VERSION__ : "0.0.0-dev"

/**
 * The OpenClaw release whose Gateway protocol and client shapes this Gateway implements (the one
 * scripts/install-compat.sh installs and test/compat checks). OpenClaw's clients compare their own
 * version with the Gateway's (hello-ok `server.version`, status `runtimeVersion`) and warn when
 * they differ, so those fields carry this; our own VERSION goes beside it (status
 * `version` and `implementation`, health and system.info `version`).
 */
export const OPENCLAW_COMPAT_VERSION = "2026.9.6"
