/**
 * `auth.signInCode.create`: a one-time sign-in code for a Control UI link. Scope operator.admin:
 * the code signs a browser in with every scope the Control UI asks for, operator.admin among them;
 * minting one must need no less than it grants.
 */
import { Schema } from "effect"
import { Method, MethodGroup } from "../contract.js"

export const SIGN_IN_CODE_METHOD = "auth.signInCode.create"

/** In auth mode "none" the bare link signs in: no code, only the mode. */
export const SignInCodeResult = Schema.Struct({
  authMode: Schema.String,
  code: Schema.optionalWith(Schema.String, { exact: true }),
  expiresAt: Schema.optionalWith(Schema.Number, { exact: true }),
  ttlMs: Schema.optionalWith(Schema.Number, { exact: true })
})

export const SignInGroup = MethodGroup.make({
  [SIGN_IN_CODE_METHOD]: Method.make({ requires: "operator.admin", result: SignInCodeResult })
})
