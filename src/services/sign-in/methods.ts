/**
 * `auth.signInCode.create`: a one-time sign-in code for a Control UI link (sign-in-codes.ts), what
 * `openclaw dashboard` opens instead of a `#token=` link.
 *
 * Scope operator.admin: the code signs a browser in as a device with every scope the Control UI
 * asks for, operator.admin among them; minting one must need no less than it grants (a client
 * with operator.pairing alone would otherwise mint its way to admin).
 */
import { Effect, Layer } from "effect"
import { SIGN_IN_CODE_METHOD, SignInGroup } from "../../protocol/contracts/sign-in.js"
import { Gateway } from "../gateway/api.js"
import { Auth } from "../auth/Auth.js"
import { AuditLog } from "../audit-log/AuditLog.js"

export { SIGN_IN_CODE_METHOD }

export const SignInCodeMethods = {
  /** Needs Auth, Gateway and AuditLog (each code minted is an entry: who asked, never the code). */
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const auth = yield* Auth
      const gateway = yield* Gateway
      const audit = yield* AuditLog
      yield* gateway.registerGroup(SignInGroup, {
        // No params. In auth mode "none" the bare link signs in: there is nothing to mint.
        [SIGN_IN_CODE_METHOD]: {
          sync: (_params, { caller }) => {
            if (auth.mintSignInCode === undefined) return { authMode: auth.mode }
            const { code, expiresAt } = auth.mintSignInCode()
            audit.record("signin.code", { by: `${caller.clientId} (${caller.connId.slice(0, 8)})`, role: caller.role })
            return { authMode: auth.mode, code, expiresAt, ttlMs: expiresAt - Date.now() }
          }
        }
      })
    })
  )
}
