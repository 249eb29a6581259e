/**
 * Installing and removing the unit file: idempotent (the same content is nothing to do), a changed
 * file is replaced only with `force` (else refused naming the diff), and `uninstall` removes only a
 * file that carries our marker, so a unit someone wrote by hand is never touched.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import type { ProcessRunner } from "../../platform/process-runner.js"
import type { ServiceDriver } from "./driver.js"
import { NotInstalled, NotOurUnit, type ServiceCommandFailed, UnitDiffers, UnitFileError } from "./errors.js"
import { isOurs, lineDiff } from "./unit-file.js"

const readIfExists = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw e
  }
}

const readUnit = (file: string) =>
  Effect.try({
    try: () => readIfExists(file),
    catch: (e) => new UnitFileError({ path: file, reason: (e as NodeJS.ErrnoException).code ?? String(e) })
  })

/** Atomic: a half-written unit never exists, even if we are killed mid-write. */
const writeUnit = (file: string, content: string) =>
  Effect.try({
    try: () => {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      const tmp = `${file}.${process.pid}.tmp`
      fs.writeFileSync(tmp, content, { mode: 0o644 })
      fs.renameSync(tmp, file)
    },
    catch: (e) => new UnitFileError({ path: file, reason: (e as NodeJS.ErrnoException).code ?? String(e) })
  })

export type InstallOutcome = "created" | "unchanged" | "replaced"

export const installUnit = (
  driver: ServiceDriver,
  content: string,
  force: boolean
): Effect.Effect<InstallOutcome, UnitDiffers | NotOurUnit | UnitFileError | ServiceCommandFailed, ProcessRunner> =>
  Effect.gen(function* () {
    const existing = yield* readUnit(driver.path)
    if (existing === content) return "unchanged" as const
    if (existing !== undefined && !force) {
      return yield* isOurs(existing)
        ? Effect.fail(new UnitDiffers({ path: driver.path, diff: lineDiff(existing, content) }))
        : Effect.fail(new NotOurUnit({ path: driver.path }))
    }
    yield* writeUnit(driver.path, content)
    yield* driver.activate(existing !== undefined)
    return existing === undefined ? ("created" as const) : ("replaced" as const)
  })

export const uninstallUnit = (
  driver: ServiceDriver
): Effect.Effect<void, NotInstalled | NotOurUnit | UnitFileError | ServiceCommandFailed, ProcessRunner> =>
  Effect.gen(function* () {
    const existing = yield* readUnit(driver.path)
    if (existing === undefined) return yield* new NotInstalled({ path: driver.path })
    if (!isOurs(existing)) return yield* new NotOurUnit({ path: driver.path })
    yield* driver.deactivate
    yield* Effect.try({
      try: () => fs.rmSync(driver.path, { force: true }),
      catch: (e) => new UnitFileError({ path: driver.path, reason: (e as NodeJS.ErrnoException).code ?? String(e) })
    })
    yield* driver.forget
  })

/** start/stop/restart/logs need a unit of ours to act on. */
export const requireInstalled = (driver: ServiceDriver) =>
  Effect.flatMap(readUnit(driver.path), (existing) =>
    existing === undefined ? Effect.fail(new NotInstalled({ path: driver.path })) : Effect.void
  )
