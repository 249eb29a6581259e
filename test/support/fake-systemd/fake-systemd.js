#!/usr/bin/env node
// A faithful fake of the systemd user manager's CLIs for tests: `systemctl --user`, `loginctl` and
// `journalctl --user`, dispatched on the name it is called by (systemctl, loginctl and journalctl
// are symlinks to this file). No systemd runs on the test machines (shared/tailscale.md).
//
// State lives in the directory FAKE_SYSTEMD_STATE:
//   calls.log          one JSON line per call: { prog, args }
//   loaded/<unit>      the unit as read at the last `daemon-reload` (start uses this copy, like systemd)
//   units/<unit>.json  runtime: ActiveState, SubState, MainPID, ExecMain*, the supervisor's PID
//   logs/<unit>.log    the journal: the service's stdout and stderr
//   linger             exists when linger is on
// `start` forks a supervisor (this file, `__supervise <unit>`) that really runs ExecStart with the
// unit's Environment=, restarts it on failure after RestartSec, and stops it on SIGTERM (`stop`).
// Unit files are read where the real user manager reads them: $XDG_CONFIG_HOME/systemd/user or
// ~/.config/systemd/user; `enable` makes the default.target.wants symlink like the real one.
//
// To fail like the real ones: FAKE_SYSTEMD_NO_BUS=1 (every `systemctl --user` call: "Failed to
// connect to bus: No medium found", as in a container or WSL without systemd);
// FAKE_LOGINCTL_DENY=1 (`enable-linger` refused by polkit).
"use strict"
const fs = require("node:fs")
const path = require("node:path")
const { spawn } = require("node:child_process")

const stateDir = process.env.FAKE_SYSTEMD_STATE
if (!stateDir) {
  process.stderr.write("fake-systemd: FAKE_SYSTEMD_STATE is not set\n")
  process.exit(2)
}
for (const d of ["loaded", "units", "logs"]) fs.mkdirSync(path.join(stateDir, d), { recursive: true })

const prog = path.basename(process.argv[1])
const args = process.argv.slice(2)
if (args[0] !== "__supervise")
  fs.appendFileSync(path.join(stateDir, "calls.log"), `${JSON.stringify({ prog, args })}\n`)

const die = (msg, code = 1) => {
  process.stderr.write(`${msg}\n`)
  process.exit(code)
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const home = process.env.HOME
const unitDir = path.join(
  process.env.XDG_CONFIG_HOME && path.isAbsolute(process.env.XDG_CONFIG_HOME)
    ? process.env.XDG_CONFIG_HOME
    : path.join(home, ".config"),
  "systemd",
  "user"
)
const wantsLink = (unit) => path.join(unitDir, "default.target.wants", unit)
const runtimeFile = (unit) => path.join(stateDir, "units", `${unit}.json`)
const readRuntime = (unit) => {
  try {
    return JSON.parse(fs.readFileSync(runtimeFile(unit), "utf8"))
  } catch {
    return { ActiveState: "inactive", SubState: "dead", MainPID: 0, ExecMainCode: 0, ExecMainStatus: 0 }
  }
}
const writeRuntime = (unit, patch) => {
  const next = { ...readRuntime(unit), ...patch }
  const tmp = `${runtimeFile(unit)}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(next))
  fs.renameSync(tmp, runtimeFile(unit))
  return next
}
const alive = (pid) => {
  if (!pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// systemd's command-line syntax: words, "quoted" with \ escapes, %% for a literal %, and in the
// arguments of ExecStart (not its program, not Environment=) $$ for a literal $.
const splitWords = (line, dollars) => {
  const words = []
  let i = 0
  while (i < line.length) {
    while (line[i] === " " || line[i] === "\t") i++
    if (i >= line.length) break
    let word = ""
    if (line[i] === '"') {
      i++
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "\\") i++
        word += line[i++]
      }
      i++
    } else while (i < line.length && line[i] !== " " && line[i] !== "\t") word += line[i++]
    const percent = word.replace(/%%/g, "%")
    words.push(dollars && words.length > 0 ? percent.replace(/\$\$/g, "$") : percent)
  }
  return words
}
const parseUnit = (text) => {
  const unit = {}
  let section = ""
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const m = /^\[(.+)\]$/.exec(line)
    if (m) {
      section = m[1]
      continue
    }
    const eq = line.indexOf("=")
    const key = `${section}.${line.slice(0, eq)}`
    ;(unit[key] ??= []).push(line.slice(eq + 1))
  }
  return unit
}
const loadedUnit = (unit) => {
  try {
    return parseUnit(fs.readFileSync(path.join(stateDir, "loaded", unit), "utf8"))
  } catch {
    return undefined
  }
}

const systemdTime = (ms) => {
  const d = new Date(ms)
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.getUTCDay()]
  return `${day} ${d.toISOString().slice(0, 19).replace("T", " ")} UTC`
}

async function systemctl() {
  if (!args.includes("--user")) die("System has not been booted with systemd as init system (PID 1). Can't operate.")
  if (process.env.FAKE_SYSTEMD_NO_BUS === "1") die("Failed to connect to bus: No medium found")
  const props = []
  const words = []
  let now = false
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === "--user" || a === "--no-pager" || a === "-q" || a === "--quiet") continue
    else if (a === "--now") now = true
    else if (a === "-p" || a === "--property") props.push(...args[++i].split(","))
    else if (a.startsWith("--property=")) props.push(...a.slice(11).split(","))
    else if (a.startsWith("-")) die(`systemctl: unrecognized option '${a}'`)
    else words.push(a)
  }
  const [verb, unit] = words
  const need = () => unit ?? die(`Too few arguments.`)
  switch (verb) {
    case "show":
      if (unit === undefined) return process.stdout.write("Version=252-fake\n")
      return show(unit, props)
    case "daemon-reload": {
      const names = fs.existsSync(unitDir) ? fs.readdirSync(unitDir).filter((f) => f.endsWith(".service")) : []
      for (const f of fs.readdirSync(path.join(stateDir, "loaded")))
        if (!names.includes(f)) fs.rmSync(path.join(stateDir, "loaded", f))
      for (const f of names) fs.copyFileSync(path.join(unitDir, f), path.join(stateDir, "loaded", f))
      return
    }
    case "enable": {
      const file = path.join(unitDir, need())
      if (!fs.existsSync(file)) die(`Failed to enable unit: Unit file ${unit} does not exist.`)
      const wanted = parseUnit(fs.readFileSync(file, "utf8"))["Install.WantedBy"]
      if (wanted?.[0] !== "default.target") die(`The unit files have no installation config (WantedBy=...)`)
      if (!fs.existsSync(wantsLink(unit))) {
        fs.mkdirSync(path.dirname(wantsLink(unit)), { recursive: true })
        fs.symlinkSync(file, wantsLink(unit))
        process.stderr.write(`Created symlink ${wantsLink(unit)} → ${file}.\n`)
      }
      if (now) await start(unit)
      return
    }
    case "disable":
      need()
      if (fs.existsSync(wantsLink(unit))) {
        fs.rmSync(wantsLink(unit))
        process.stderr.write(`Removed "${wantsLink(unit)}".\n`)
      }
      if (now) await stop(unit)
      return
    case "start":
      return start(need())
    case "stop":
      return stop(need())
    case "restart":
      await stop(need())
      return start(unit)
    case "reset-failed":
      if (readRuntime(need()).ActiveState === "failed")
        writeRuntime(unit, { ActiveState: "inactive", SubState: "dead" })
      return
    default:
      die(`Unknown command verb ${verb}.`)
  }
}

function show(unit, props) {
  const rt = readRuntime(unit)
  const loaded = loadedUnit(unit) !== undefined
  const running = alive(rt.supervisorPid)
  const active = running ? rt.ActiveState : rt.ActiveState === "failed" ? "failed" : "inactive"
  const all = {
    LoadState: loaded ? "loaded" : "not-found",
    ActiveState: active,
    SubState: running ? rt.SubState : active === "failed" ? "failed" : "dead",
    MainPID: running ? rt.MainPID : 0,
    ExecMainStartTimestamp: rt.ExecMainStartTimestamp ? systemdTime(rt.ExecMainStartTimestamp) : "",
    ExecMainCode: rt.ExecMainCode ?? 0,
    ExecMainStatus: rt.ExecMainStatus ?? 0,
    UnitFileState: fs.existsSync(wantsLink(unit))
      ? "enabled"
      : fs.existsSync(path.join(unitDir, unit))
        ? "disabled"
        : "",
    NRestarts: rt.NRestarts ?? 0
  }
  // Like the real one: its own order, not the order asked for.
  const keys = Object.keys(all).filter((k) => props.length === 0 || props.includes(k))
  process.stdout.write(keys.map((k) => `${k}=${all[k]}\n`).join(""))
}

async function start(unit) {
  const spec = loadedUnit(unit)
  if (spec === undefined) die(`Failed to start ${unit}: Unit ${unit} not found.`, 5)
  if (alive(readRuntime(unit).supervisorPid)) return
  const child = spawn(process.execPath, [__filename, "__supervise", unit], {
    detached: true,
    stdio: "ignore",
    env: { ...process.env }
  })
  child.unref()
  writeRuntime(unit, { supervisorPid: child.pid, ActiveState: "activating", SubState: "start", NRestarts: 0 })
  // Type=simple: start returns once the main process is forked.
  for (let i = 0; i < 100 && readRuntime(unit).MainPID === 0; i++) await sleep(50)
  for (let i = 0; i < 100 && !(readRuntime(unit).MainPID > 0 && readRuntime(unit).ActiveState === "active"); i++)
    await sleep(50)
}

async function stop(unit) {
  const rt = readRuntime(unit)
  if (!alive(rt.supervisorPid)) return
  process.kill(rt.supervisorPid, "SIGTERM")
  for (let i = 0; i < 600 && alive(rt.supervisorPid); i++) await sleep(50)
}

async function supervise(unit) {
  const spec = loadedUnit(unit)
  const argv = splitWords(spec["Service.ExecStart"][0], true)
  const env = {
    HOME: process.env.HOME,
    USER: process.env.USER ?? "root",
    PATH: "/usr/local/bin:/usr/bin:/bin",
    FAKE_SYSTEMD_STATE: stateDir
  }
  for (const line of spec["Service.Environment"] ?? [])
    for (const word of splitWords(line, false))
      env[word.slice(0, word.indexOf("="))] = word.slice(word.indexOf("=") + 1)
  const restartSec = Number(spec["Service.RestartSec"]?.[0] ?? "0.1") * 1000
  const stopTimeout = Number(spec["Service.TimeoutStopSec"]?.[0] ?? "90") * 1000
  const log = fs.openSync(path.join(stateDir, "logs", `${unit}.log`), "a")
  let child
  let stopping = false
  let wake = () => {}
  process.on("SIGTERM", () => {
    stopping = true
    wake()
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      setTimeout(() => child.kill("SIGKILL"), stopTimeout).unref()
    }
  })
  // The test's directory is gone: nobody will stop us, so stop.
  setInterval(() => {
    if (!fs.existsSync(stateDir)) {
      if (child) child.kill("SIGKILL")
      process.exit(0)
    }
  }, 1000).unref()
  while (!stopping) {
    child = spawn(argv[0], argv.slice(1), { env, stdio: ["ignore", log, log] })
    const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })))
    writeRuntime(unit, {
      ActiveState: "active",
      SubState: "running",
      MainPID: child.pid,
      ExecMainStartTimestamp: Date.now(),
      ExecMainCode: 0,
      ExecMainStatus: 0
    })
    const { code, signal } = await exited
    const os = require("node:os")
    const ended = signal
      ? { ExecMainCode: 2, ExecMainStatus: os.constants.signals[signal] }
      : { ExecMainCode: 1, ExecMainStatus: code }
    // A clean stop (SIGTERM from `stop`) is not a failure, as with the real manager.
    const failed = !stopping && (signal !== null || code !== 0)
    if (!failed || spec["Service.Restart"]?.[0] !== "on-failure") {
      writeRuntime(unit, {
        ...ended,
        MainPID: 0,
        ActiveState: failed ? "failed" : "inactive",
        SubState: failed ? "failed" : "dead",
        supervisorPid: 0
      })
      return
    }
    writeRuntime(unit, {
      ...ended,
      MainPID: 0,
      ActiveState: "activating",
      SubState: "auto-restart",
      NRestarts: (readRuntime(unit).NRestarts ?? 0) + 1
    })
    await new Promise((r) => {
      wake = r
      setTimeout(r, restartSec)
    })
  }
  writeRuntime(unit, { MainPID: 0, ActiveState: "inactive", SubState: "dead", supervisorPid: 0 })
}

function loginctl() {
  const [verb, user] = args
  const lingerFile = path.join(stateDir, "linger")
  if (verb === "show-user") return process.stdout.write(`Linger=${fs.existsSync(lingerFile) ? "yes" : "no"}\n`)
  if (verb === "enable-linger") {
    if (process.env.FAKE_LOGINCTL_DENY === "1") die("Could not enable linger: Access denied")
    fs.writeFileSync(lingerFile, user ?? "")
    return
  }
  die(`Unknown command verb ${verb}.`)
}

async function journalctl() {
  if (!args.includes("--user")) die("journalctl: only --user is faked")
  const unit = args[args.indexOf("-u") + 1]
  const n = args.includes("-n") ? Number(args[args.indexOf("-n") + 1]) : Infinity
  const file = path.join(stateDir, "logs", `${unit}.log`)
  const read = () => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "")
  const text = read()
  if (text === "" && !args.includes("-f")) return process.stdout.write("-- No entries --\n")
  const lines = text.split("\n").filter((l, i, all) => i < all.length - 1 || l !== "")
  process.stdout.write(
    lines
      .slice(Math.max(0, lines.length - n))
      .map((l) => `${l}\n`)
      .join("")
  )
  if (!args.includes("-f")) return
  let offset = Buffer.byteLength(text)
  for (;;) {
    await sleep(200)
    const now = Buffer.from(read())
    if (now.length > offset) process.stdout.write(now.subarray(offset))
    offset = now.length
  }
}

const main = {
  systemctl: () => (args[0] === "__supervise" ? supervise(args[1]) : systemctl()),
  loginctl,
  journalctl
}[prog === "fake-systemd.js" && args[0] === "__supervise" ? "systemctl" : prog]
if (!main) die(`fake-systemd: called as ${prog}`)
Promise.resolve(main()).catch((e) => die(`fake-systemd: ${e.stack}`))
