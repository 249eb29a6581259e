/**
 * Numeric flags checked where they are parsed: a bad value is a usage error (exit 2) with one line
 * naming the flag and the accepted range, never a RangeError from deep inside Node.
 */
import { HelpDoc, Options } from "@effect/cli"

/** An integer flag in [min, max]; mapTryCatch turns the thrown RangeError into the usage error. */
const checked = (name: string, pseudo: string, min: number, max: number, what: string) =>
  Options.text(name).pipe(
    Options.withPseudoName(pseudo),
    Options.mapTryCatch(
      (text) => {
        const trimmed = text.trim()
        const n = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN
        if (!Number.isSafeInteger(n) || n < min || n > max)
          throw new RangeError(`--${name}: expected ${what}, got ${JSON.stringify(text)}`)
        return n
      },
      (e) => HelpDoc.p(e instanceof RangeError ? e.message : `--${name}: ${String(e)}`)
    )
  )

/** A TCP port, 1-65535; `anyFree` also takes 0 (the Gateway then listens on a free port and records it). */
export const portFlag = (name: string, anyFree = false) =>
  anyFree
    ? checked(name, "port", 0, 65_535, "a port between 1 and 65535 (or 0 for any free port)")
    : checked(name, "port", 1, 65_535, "a port between 1 and 65535")

/** A positive number of milliseconds (at most a day: setTimeout's limit is about 24.8 days). */
export const timeoutFlag = (name = "timeout") =>
  checked(name, "ms", 1, 86_400_000, "a timeout in milliseconds between 1 and 86400000")
