/**
 * The one way the CLI writes to the terminal. Human output is full of strings a Gateway, a node, a
 * web page or a model chose; none of them may drive the terminal (security.md section 10). So every
 * write passes through the sanitiser here: `terminalConsole` (installed in main.ts) escapes what any
 * command prints with Console.log/error, `printJson` escapes C1 and bidi that JSON leaves raw, and
 * `writeText` is for streamed text (an agent's reply). Lint forbids process.stdout/stderr.write and
 * console.* elsewhere in src/cli, so a new command gets this by default.
 *
 * The sanitiser keeps newlines and tabs here (the CLI's own layout); a listing that shows someone
 * else's name inside a line escapes that name with forTerminal, so it cannot start a fake line.
 */
import { Console, Effect } from "effect"
import { jsonForTerminal, textForTerminal } from "../protocol/client-text.js"

/** @effect/cli's usage errors come with SGR colour codes: dropped, as the rest is plain text. */
const usageColours = /\x1b\[[0-9;]*m/g

const joined = (args: ReadonlyArray<unknown>): string => args.map(String).join(" ")

/** Text for stdout, sanitised: newlines and tabs kept, every other control shown as an escape. */
export const writeText = (text: string): void => void process.stdout.write(textForTerminal(text))

/** Text for stderr, sanitised the same way. */
export const writeError = (text: string): void => void process.stderr.write(textForTerminal(text))

/** Machine-readable output: JSON with C1, bidi and other format characters escaped too. */
export const printJson = (value: unknown) => Console.log(jsonForTerminal(value, 2))

/** One JSON value per line (`--json` streams such as the audit log). */
export const jsonLine = (value: unknown): string => jsonForTerminal(value)

/**
 * The Console every command runs with: log and error (and info, warn, debug) sanitise what they
 * print. `error` also drops @effect/cli's trailing blank line on usage errors.
 */
export const withTerminalConsole = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) => {
    const out = (...args: ReadonlyArray<unknown>): Effect.Effect<void> =>
      Effect.sync(() => writeText(`${joined(args)}\n`))
    const err = (...args: ReadonlyArray<unknown>): Effect.Effect<void> =>
      Effect.sync(() => writeError(`${joined(args).replace(usageColours, "").trimEnd()}\n`))
    return Effect.withConsole(effect, { ...console, log: out, info: out, debug: out, warn: err, error: err })
  })
