/**
 * `auth.signInCode.create`: a one-time sign-in code for a Control UI link (sign-in-codes.ts), what
 * `openclaw dashboard` opens instead of a `#token=` link.
 *
 * Scope operator.admin: the code signs a browser in as a device with every scope the Control UI
 * asks for, operator.admin among them; minting one must need no less than it grants (a client
 * with operator.pairing alone would otherwise mint its way to admin).
 */
import { Effect, Layer } from "effect"
import { Gateway, type MethodDef } from "../gateway/api.js"
import { Auth } from "../auth/Auth.js"

export const SIGN_IN_CODE_METHOD = "auth.signInCode.create"

export const SignInCodeMethods = {
  /** Needs Auth and Gateway. */
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const auth = yield* Auth
      const gateway = yield* Gateway
      const method: MethodDef = {
        requires: "operator.admin",
        // No params. In auth mode "none" the bare link signs in: there is nothing to mint.
        sync: () => {
          if (auth.mintSignInCode === undefined) return { authMode: auth.mode }
          const { code, expiresAt } = auth.mintSignInCode()
          return { authMode: auth.mode, code, expiresAt, ttlMs: expiresAt - Date.now() }
        }
      }
      yield* gateway.registerMethod(SIGN_IN_CODE_METHOD, method)
    })
  )
}
