/**
 * How strong the shared secret must be once the Gateway is reachable from other machines (a
 * non-loopback bind, or Tailscale Serve/Funnel). Loopback keeps whatever the user chose; start-up
 * (config/settings.ts, Binder's "auto" fallback) and `security audit` share these rules.
 */

export const MIN_TOKEN_LENGTH = 24
export const MIN_PASSWORD_LENGTH = 16

/** How to make one, per kind: both commands print more than the minimum. */
export const GENERATE_ADVICE = {
  token: "`openssl rand -hex 24` (48 characters)",
  password: "`openssl rand -base64 18` (24 characters) or a passphrase of several random words"
} as const

// Values people type when asked for "a password"; compared case-insensitively, and also as a
// stem followed by digits or punctuation only ("Password123!").
const OBVIOUS = [
  "password",
  "passw0rd",
  "changeme",
  "change-me",
  "changeit",
  "admin",
  "administrator",
  "root",
  "openclaw",
  "gateway",
  "secret",
  "token",
  "test",
  "testing",
  "default",
  "letmein",
  "welcome",
  "qwerty",
  "qwertyuiop",
  "asdf",
  "iloveyou",
  "monkey",
  "dragon",
  "abc",
  "abcdef",
  "abcdefgh",
  "trustno1",
  "hunter2",
  "example"
]

/** 1234..., 9876..., abcd... (each character one after the previous, wrapping 9 -> 0). */
const isSequence = (s: string): boolean => {
  if (s.length < 4) return false
  const step = (a: number, b: number) => (b - a + 10) % 10
  if (/^\d+$/.test(s)) {
    const codes = [...s].map(Number)
    const first = step(codes[0]!, codes[1]!)
    return (first === 1 || first === 9) && codes.every((c, i) => i === 0 || step(codes[i - 1]!, c) === first)
  }
  const codes = [...s].map((c) => c.charCodeAt(0))
  const d = codes[1]! - codes[0]!
  return (d === 1 || d === -1) && codes.every((c, i) => i === 0 || c - codes[i - 1]! === d)
}

/** True for well-known, repeated or sequential values that no length makes safe. */
export const isObviousSecret = (secret: string): boolean => {
  const s = secret.trim().toLowerCase()
  if (s.length === 0) return false
  if (/^(.)\1*$/.test(s) || isSequence(s)) return true
  for (const word of OBVIOUS) {
    // "password", "Password123!", "changemechangeme", "openclaw-openclaw"
    if (s.includes(word) && s.replaceAll(word, "").replace(/[\d\W_]/g, "") === "") return true
  }
  return false
}

export type SecretKind = "token" | "password"

/** Why this secret is too weak for a reachable Gateway (never quoting it), or undefined. */
export const secretWeakness = (kind: SecretKind, secret: string): string | undefined => {
  const min = kind === "token" ? MIN_TOKEN_LENGTH : MIN_PASSWORD_LENGTH
  if (secret.length < min) return `is ${secret.length} characters, too short (at least ${min})`
  if (isObviousSecret(secret)) return "is a well-known, repeated or sequential value, too weak"
  return undefined
}

/**
 * The start-up refusal: names the secret's source, the exposure, and how to make a strong one.
 * `exposure` reads like 'gateway.bind "lan" (reachable from every network this machine is on)'.
 */
export const weakSecretMessage = (kind: SecretKind, source: string, weakness: string, exposure: string): string => {
  const where =
    kind === "token"
      ? "gateway.auth.token (or OPENCLAW_GATEWAY_TOKEN)"
      : "a file for --password-file, OPENCLAW_GATEWAY_PASSWORD, or gateway.auth.password"
  return `the ${kind} from ${source} ${weakness} for ${exposure}: generate one with ${GENERATE_ADVICE[kind]} and put it in ${where}; a loopback-only Gateway (gateway.bind "loopback", no Tailscale) accepts any ${kind}`
}

/** The exposure phrase for a bind mode or Tailscale mode, for weakSecretMessage. */
export const exposurePhrase = (bind: string, tailscale: string, customHost?: string): string => {
  if (tailscale === "funnel") return 'gateway.tailscale.mode "funnel" (the public internet)'
  if (tailscale === "serve") return 'gateway.tailscale.mode "serve" (every device on your tailnet)'
  switch (bind) {
    case "tailnet":
      return 'gateway.bind "tailnet" (every device on your tailnet)'
    case "custom":
      return `gateway.bind "custom" (${customHost ?? "customBindHost"})`
    case "auto":
      return 'gateway.bind "auto", which fell back to every interface (loopback could not be bound)'
    default:
      return `gateway.bind "${bind}" (every network this machine is on)`
  }
}
