/** Expected failures end the command with a message on stderr and an exit code, never a stack trace. */
import { Effect } from "effect"
import { writeError } from "./output.js"

export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`)
  }
}

/** Prints `message` (if any) to stderr, sanitised (it often quotes a Gateway), and fails with the exit code (handled in main.ts). */
export const fail = (code: number, message: string): Effect.Effect<never, ExitWith> =>
  Effect.zipRight(
    Effect.sync(() => message.length > 0 && writeError(message.endsWith("\n") ? message : `${message}\n`)),
    Effect.fail(new ExitWith(code))
  )
