/** What can go wrong between `openclaw gateway install|start|...` and the service manager; each message names what to do. */
import { Data } from "effect"

/** No user service manager answers here (a container, WSL without systemd, no user bus over SSH). */
export class NoServiceManager extends Data.TaggedError("NoServiceManager")<{
  /** What was asked and what it said, e.g. "`systemctl --user` says: Failed to connect to bus". */
  readonly reason: string
}> {
  override get message() {
    return `no user service manager here: ${this.reason}`
  }
}

/** A different file is installed at the unit's path; `--force` replaces it. */
export class UnitDiffers extends Data.TaggedError("UnitDiffers")<{
  readonly path: string
  readonly diff: ReadonlyArray<string>
}> {
  override get message() {
    return `${this.path} exists and differs from the unit this install would write:\n${this.diff.map((l) => `    ${l}`).join("\n")}\n(--force replaces it)`
  }
}

/** The file at the unit's path was not written by `openclaw gateway install`: we never touch it. */
export class NotOurUnit extends Data.TaggedError("NotOurUnit")<{ readonly path: string }> {
  override get message() {
    return `${this.path} was not installed by \`openclaw gateway install\` (it has no marker line); remove it yourself, or install over it with --force`
  }
}

/** Nothing is installed, so there is nothing to start, stop or remove. */
export class NotInstalled extends Data.TaggedError("NotInstalled")<{ readonly path: string }> {
  override get message() {
    return `the Gateway service is not installed (no ${this.path}); run \`openclaw gateway install\``
  }
}

/** The service manager refused a command; `detail` is its first line of stderr (it never holds a secret of ours). */
export class ServiceCommandFailed extends Data.TaggedError("ServiceCommandFailed")<{
  readonly command: string
  readonly detail: string
}> {
  override get message() {
    return `\`${this.command}\` failed${this.detail ? `: ${this.detail}` : ""}`
  }
}

/** Writing or removing the unit file failed. */
export class UnitFileError extends Data.TaggedError("UnitFileError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message() {
    return `cannot write ${this.path}: ${this.reason}`
  }
}

export type ServiceError =
  NoServiceManager | UnitDiffers | NotOurUnit | NotInstalled | ServiceCommandFailed | UnitFileError
