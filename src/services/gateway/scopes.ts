/** Operator scopes: what a connect is granted, and what a method needs. */
import { OperatorScopes } from "../../protocol/frames.js"

/** Operator access grants the scopes asked for (known ones only), never more; none asked: read. */
export const grantedScopes = (requested: ReadonlyArray<string> | undefined): ReadonlyArray<string> => {
  const known = (requested ?? []).filter((s) => (OperatorScopes as ReadonlyArray<string>).includes(s))
  return known.length > 0 ? [...new Set(known)] : ["operator.read"]
}

/** admin implies every operator scope; write implies read. */
export const hasScope = (granted: ReadonlyArray<string>, needed: string): boolean =>
  granted.includes(needed) ||
  granted.includes("operator.admin") ||
  (needed === "operator.read" && granted.includes("operator.write"))
