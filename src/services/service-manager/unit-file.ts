/**
 * What `openclaw gateway install` writes: a systemd user unit or a launchd agent plist. Pure text
 * from a ServiceSpec, so the content is tested without a service manager. Neither ever holds a
 * secret: the Gateway reads its token from its config file (0600), never from the unit.
 */

/** The first line of every file we write; `uninstall` removes only a file that carries it. */
export const MARKER = "Installed by `openclaw gateway install`; `openclaw gateway uninstall` removes it."

export const SYSTEMD_UNIT = "openclaw-gateway.service"
export const LAUNCHD_LABEL = "ai.openclaw.gateway"

export interface ServiceSpec {
  /** The node binary as installed now (process.execPath): absolute, so nvm or PATH changes cannot break it. */
  readonly node: string
  /** Our entry point (bin/openclaw), absolute. */
  readonly entry: string
  /** What follows `<node> <entry>`: `gateway run` and the flags given to install. */
  readonly args: ReadonlyArray<string>
  /** Environment the Gateway needs to find the same config (OPENCLAW_STATE_DIR, OPENCLAW_CONFIG_PATH); never a secret. */
  readonly environment: Readonly<Record<string, string>>
  /** launchd only: where stdout and stderr go (under the state dir). */
  readonly logFile: string
}

/**
 * systemd's quoting: plain words stay bare; others in "..." with \ and " escaped; % doubled
 * (specifiers). `$` is doubled only in ExecStart's arguments, the one place systemd expands
 * variables: the executable's name and Environment= take it literally (systemd-analyze verify
 * rejects "$$" in a program's path).
 */
export const systemdWord = (word: string, expandsVariables: boolean): string => {
  const percent = word.replace(/%/g, "%%")
  const escaped = expandsVariables ? percent.replace(/\$/g, "$$$$") : percent
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(escaped) ? escaped : `"${escaped.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/** systemd refuses a program path with quotes or backslashes in it ("Executable name contains special characters"). */
export const systemdRefusesProgram = (program: string): boolean => /["'\\\p{Cc}]/u.test(program)

const execStart = (program: string, args: ReadonlyArray<string>) =>
  [systemdWord(program, false), ...args.map((a) => systemdWord(a, true))].join(" ")

export const systemdUnit = (spec: ServiceSpec): string =>
  [
    `# ${MARKER}`,
    "# To change it, run `openclaw gateway install --force` with other flags. No secret here: the Gateway reads its config file.",
    "[Unit]",
    "Description=OpenClaw Gateway",
    "Documentation=https://github.com/openclaw/openclaw",
    "After=network-online.target",
    "Wants=network-online.target",
    // At most 5 starts in 5 minutes; then the unit stays failed until `openclaw gateway start`.
    "StartLimitIntervalSec=300",
    "StartLimitBurst=5",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${execStart(spec.node, [spec.entry, ...spec.args])}`,
    ...Object.entries(spec.environment).map(([k, v]) => `Environment=${systemdWord(`${k}=${v}`, false)}`),
    "Restart=on-failure",
    "RestartSec=5",
    // The pre-auth pool and every client hold a descriptor: more than the usual soft limit of 1024.
    "LimitNOFILE=8192",
    // The Gateway withdraws its Tailscale route and closes clients on SIGTERM.
    "TimeoutStopSec=20",
    "KillMode=mixed",
    "",
    "[Install]",
    "WantedBy=default.target",
    ""
  ].join("\n")

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

export const launchdPlist = (spec: ServiceSpec): string => {
  const strings = (items: ReadonlyArray<string>) => items.map((s) => `    <string>${xml(s)}</string>`)
  const env = Object.entries(spec.environment)
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    `<!-- ${xml(MARKER)} -->`,
    '<plist version="1.0">',
    "<dict>",
    "  <key>Label</key>",
    `  <string>${LAUNCHD_LABEL}</string>`,
    "  <key>ProgramArguments</key>",
    "  <array>",
    ...strings([spec.node, spec.entry, ...spec.args]),
    "  </array>",
    ...(env.length > 0
      ? [
          "  <key>EnvironmentVariables</key>",
          "  <dict>",
          ...env.flatMap(([k, v]) => [`    <key>${xml(k)}</key>`, `    <string>${xml(v)}</string>`]),
          "  </dict>"
        ]
      : []),
    "  <key>RunAtLoad</key>",
    "  <true/>",
    // Restarted when it exits for any reason but a clean stop (exit 0), like Restart=on-failure.
    "  <key>KeepAlive</key>",
    "  <dict>",
    "    <key>SuccessfulExit</key>",
    "    <false/>",
    "  </dict>",
    "  <key>ThrottleInterval</key>",
    "  <integer>5</integer>",
    "  <key>SoftResourceLimits</key>",
    "  <dict>",
    "    <key>NumberOfFiles</key>",
    "    <integer>8192</integer>",
    "  </dict>",
    "  <key>StandardOutPath</key>",
    `  <string>${xml(spec.logFile)}</string>`,
    "  <key>StandardErrorPath</key>",
    `  <string>${xml(spec.logFile)}</string>`,
    "</dict>",
    "</plist>",
    ""
  ].join("\n")
}

export const isOurs = (content: string): boolean => content.includes(MARKER)

/** The lines that differ, for a refusal that names them ("- old" / "+ new"); at most `max` lines. */
export const lineDiff = (before: string, after: string, max = 12): ReadonlyArray<string> => {
  const a = before.split("\n")
  const b = after.split("\n")
  const inB = new Set(b)
  const inA = new Set(a)
  const out = [
    ...a.filter((l) => !inB.has(l)).map((l) => `- ${l}`),
    ...b.filter((l) => !inA.has(l)).map((l) => `+ ${l}`)
  ]
  return out.length > max ? [...out.slice(0, max), `  (${out.length - max} more)`] : out
}
