/**
 * OpenClaw names a session `agent:<agentId>:<key>`; this Gateway has one agent (`main`) and keys
 * its sessions by `<key>` alone. OpenClaw's clients send the long form (the Control UI's default
 * session is `agent:main:main`): both forms name the same session here.
 */
export const AGENT_ID = "main"
const PREFIX = `agent:${AGENT_ID}:`

/** Our key for a key in either form. */
export const ourSessionKey = (key: string): string =>
  key.startsWith(PREFIX) && key.length > PREFIX.length ? key.slice(PREFIX.length) : key

/** OpenClaw's long form of one of our keys. */
export const openclawSessionKey = (key: string): string => `${PREFIX}${key}`
