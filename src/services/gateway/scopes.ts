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
  const known: Array<string> = []
  for (const asked of requested ?? []) {
    // Our own constant, not the client's copy of the string: every connection keeps its scopes.
    const scope = OperatorScopes.find((s) => s === asked)
    if (scope !== undefined && within(scope) && !known.includes(scope)) known.push(scope)
  }
  // A copy of exactly its length (pushing reserved room for 17).
  if (known.length > 0) return known.slice()
  return within("operator.read") ? READ : []
}

const READ: ReadonlyArray<string> = Object.freeze(["operator.read"])

/** admin implies every operator scope; write implies read. */
export const hasScope = (granted: ReadonlyArray<string>, needed: string): boolean =>
  granted.includes(needed) ||
  granted.includes("operator.admin") ||
  (needed === "operator.read" && granted.includes("operator.write"))
