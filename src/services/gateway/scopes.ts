/** Operator scopes: what a connect is granted, and what a method needs. */
import { OperatorScopes } from "../../protocol/frames.js"

/**
 * Operator access grants the scopes asked for (known ones only), never more; none asked: read.
 * With a `ceiling` (a device token's approved scopes) only those the ceiling holds: asking for
 * more gets less, never an error (hello-ok says which were granted).
 */
export const grantedScopes = (
  requested: ReadonlyArray<string> | undefined,
  ceiling?: ReadonlyArray<string>
): ReadonlyArray<string> => {
  const within = (s: string) => ceiling === undefined || hasScope(ceiling, s)
  const known = (requested ?? []).filter((s) => (OperatorScopes as ReadonlyArray<string>).includes(s) && within(s))
  if (known.length > 0) return [...new Set(known)]
  return within("operator.read") ? ["operator.read"] : []
}

/** admin implies every operator scope; write implies read. */
export const hasScope = (granted: ReadonlyArray<string>, needed: string): boolean =>
  granted.includes(needed) ||
  granted.includes("operator.admin") ||
  (needed === "operator.read" && granted.includes("operator.write"))
