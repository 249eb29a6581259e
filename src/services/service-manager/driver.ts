/** What `openclaw gateway install|start|stop|...` needs from a service manager (systemd or launchd). */
import type { Effect } from "effect"
import type { ProcessRunner } from "../../platform/process-runner.js"
import type { NoServiceManager, ServiceCommandFailed } from "./errors.js"
import type { ServiceSpec } from "./unit-file.js"

export interface ServiceStatus {
  readonly manager: "systemd" | "launchd"
  readonly unit: string
  readonly path: string
  /** The unit file exists. */
  readonly installed: boolean
  /** "active", "inactive", "failed", "activating" (systemd), "running", "not loaded" (launchd). */
  readonly active: string
  /** systemd's SubState ("running", "auto-restart", "dead"). */
  readonly subState?: string
  /** Starts at login (systemd: enabled; launchd: the plist is in LaunchAgents). */
  readonly enabled: boolean
  readonly pid?: number
  /** When the current (or last) process started, as the manager says it. */
  readonly since?: string
  /** How the last process ended: "exit code 1", "killed by signal 9". */
  readonly lastExit?: string
  /** systemd: how often Restart= restarted it since it was started. */
  readonly restarts?: number
}

export type Run<A> = Effect.Effect<A, ServiceCommandFailed, ProcessRunner>

export interface ServiceDriver {
  readonly manager: "systemd" | "launchd"
  /** The unit's name: openclaw-gateway.service or ai.openclaw.gateway. */
  readonly unit: string
  /** Where the unit file lives. */
  readonly path: string
  readonly render: (spec: ServiceSpec) => string
  /** Asks the manager itself whether it answers. */
  readonly probe: Effect.Effect<void, NoServiceManager, ProcessRunner>
  /** After the file was written: load it, enable it and start it (`replaced`: restart a running one). */
  readonly activate: (replaced: boolean) => Run<void>
  /** Before the file is removed: stop and disable. */
  readonly deactivate: Run<void>
  /** After the file was removed (systemd: daemon-reload). */
  readonly forget: Run<void>
  readonly start: Run<void>
  readonly stop: Run<void>
  readonly restart: Run<void>
  readonly status: Run<ServiceStatus>
  /** Writes the service's log through `write`; `follow` keeps going until interrupted. */
  readonly logs: (follow: boolean, write: (text: string) => void) => Run<void>
}
