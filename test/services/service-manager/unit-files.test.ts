/**
 * The unit files and the launchd driver without a service manager: the systemd unit's quoting is
 * checked by the real `systemd-analyze verify` (it resolves ExecStart, so a wrongly quoted path
 * fails), the plist's content, and the exact `launchctl` argv sequence against a fake launchctl
 * (ProcessRunner.layerTest) that, like the real one, refuses to kickstart an unloaded agent.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { afterAll, describe, expect } from "vitest"
import { exits, ProcessRunner } from "../../../src/platform/process-runner.js"
import { installUnit, uninstallUnit } from "../../../src/services/service-manager/install.js"
import { launchdDriver } from "../../../src/services/service-manager/launchd.js"
import {
  LAUNCHD_LABEL,
  launchdPlist,
  MARKER,
  type ServiceSpec,
  systemdRefusesProgram,
  systemdUnit
} from "../../../src/services/service-manager/unit-file.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oc-units-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const spec = (over: Partial<ServiceSpec> = {}): ServiceSpec => ({
  node: process.execPath,
  entry: path.resolve(__dirname, "../../../bin/openclaw"),
  args: ["gateway", "run", "--port", "18789"],
  environment: { OPENCLAW_STATE_DIR: "/home/u/.openclaw" },
  logFile: "/Users/u/.openclaw/logs/gateway.log",
  ...over
})

const analyzeWorks = spawnSync("systemd-analyze", ["--version"]).status === 0

describe("systemd unit", () => {
  it.skipIf(!analyzeWorks)(
    "paths with spaces, quotes, % and $ are quoted so that systemd-analyze verify finds the programs",
    () => {
      // A node and an entry point under an awkward directory: verify fails if ExecStart is split wrongly.
      const odd = path.join(dir, `odd dir 100% $HOME`)
      fs.mkdirSync(odd, { recursive: true })
      fs.symlinkSync(process.execPath, path.join(odd, "node"))
      const unitFile = path.join(dir, "openclaw-gateway.service")
      fs.writeFileSync(
        unitFile,
        systemdUnit(
          spec({
            node: path.join(odd, "node"),
            entry: `${odd}/"quoted" \\ entry`,
            environment: { OPENCLAW_STATE_DIR: `${odd}/"state"` }
          })
        )
      )
      const r = spawnSync("systemd-analyze", ["verify", unitFile], { encoding: "utf8" })
      expect(r.stderr).toBe("")
      expect(r.status).toBe(0)
      // And the check can fail: a program that is not there.
      fs.writeFileSync(unitFile, systemdUnit(spec({ node: path.join(odd, "missing-node") })))
      expect(spawnSync("systemd-analyze", ["verify", unitFile], { encoding: "utf8" }).status).not.toBe(0)
    }
  )

  it("a program path systemd would refuse is recognised before anything is written", () => {
    expect(systemdRefusesProgram(process.execPath)).toBe(false)
    expect(systemdRefusesProgram("/opt/node 100% $x/bin/node")).toBe(false)
    for (const bad of ['/opt/"n"/node', "/opt/it's/node", "/opt/a\\b/node", "/opt/a\nb/node"])
      expect(systemdRefusesProgram(bad)).toBe(true)
  })

  it("starts with the marker and never holds a secret flag", () => {
    const unit = systemdUnit(spec())
    expect(unit.split("\n")[0]).toBe(`# ${MARKER}`)
    expect(unit).not.toMatch(/--token|--password|OPENCLAW_GATEWAY_TOKEN|OPENCLAW_GATEWAY_PASSWORD/)
  })
})

describe("launchd plist", () => {
  it("KeepAlive, RunAtLoad, absolute ProgramArguments, log paths under the state dir, XML escaped", () => {
    const plist = launchdPlist(spec({ entry: "/opt/a&b/<openclaw>" }))
    expect(plist).toContain(`<!-- ${MARKER} -->`)
    expect(plist).toContain(`<key>Label</key>\n  <string>${LAUNCHD_LABEL}</string>`)
    expect(plist).toContain(
      `<key>ProgramArguments</key>\n  <array>\n    <string>${process.execPath}</string>\n    <string>/opt/a&amp;b/&lt;openclaw&gt;</string>\n    <string>gateway</string>\n    <string>run</string>`
    )
    expect(plist).toContain("<key>KeepAlive</key>")
    expect(plist).toContain("<key>RunAtLoad</key>\n  <true/>")
    expect(plist).toContain("<key>StandardOutPath</key>\n  <string>/Users/u/.openclaw/logs/gateway.log</string>")
    expect(plist).toContain("<key>StandardErrorPath</key>\n  <string>/Users/u/.openclaw/logs/gateway.log</string>")
    expect(plist).toContain("<key>OPENCLAW_STATE_DIR</key>\n    <string>/home/u/.openclaw</string>")
    for (const tag of ["dict", "array", "plist"])
      expect(plist.split(`<${tag}`).length - 1).toBe(plist.split(`</${tag}>`).length - 1)
  })
})

/** A fake launchctl with the real one's refusals: bootstrap of a loaded agent, kickstart or bootout of an unloaded one. */
const fakeLaunchctl = () => {
  const calls: Array<string> = []
  let loaded = false
  let pid = 4000
  const service = `gui/501/${LAUNCHD_LABEL}`
  const layer = ProcessRunner.layerTest((argv) => {
    calls.push(argv.join(" "))
    const [prog, verb, target] = argv
    if (prog !== "launchctl") return undefined
    if (verb === "print" && target === "gui/501") return exits({ stdout: "gui/501 = {\n}\n" })
    if (verb === "print" && target === service)
      return loaded
        ? exits({ stdout: `${service} = {\n\tstate = running\n\tpid = ${pid}\n\tlast exit code = 0\n}\n` })
        : exits({ code: 113, stderr: `Could not find service "${LAUNCHD_LABEL}" in domain for user gui: 501\n` })
    if (verb === "bootstrap") {
      if (loaded) return exits({ code: 5, stderr: "Bootstrap failed: 5: Input/output error\n" })
      loaded = true
      pid++
      return exits()
    }
    if (verb === "bootout") {
      if (!loaded) return exits({ code: 3, stderr: "Boot-out failed: 3: No such process\n" })
      loaded = false
      return exits()
    }
    if (verb === "kickstart") {
      if (!loaded) return exits({ code: 113, stderr: "Could not find service\n" })
      pid++
      return exits()
    }
    return undefined
  })
  return { calls, layer, isLoaded: () => loaded }
}

describe("launchd driver (fake launchctl)", () => {
  const agentDir = path.join(dir, "LaunchAgents")
  const driver = launchdDriver({
    agentDir,
    uid: 501,
    logFile: path.join(dir, "gateway.log"),
    fileExists: (f) => fs.existsSync(f)
  })
  const service = `gui/501/${LAUNCHD_LABEL}`
  const plistPath = path.join(agentDir, `${LAUNCHD_LABEL}.plist`)

  it.effect(
    "install bootstraps; stop boots out; start after stop bootstraps again (never a kickstart of an unloaded agent)",
    () => {
      const fake = fakeLaunchctl()
      return Effect.gen(function* () {
        yield* driver.probe
        expect(yield* installUnit(driver, driver.render(spec()), false)).toBe("created")
        expect(fs.readFileSync(plistPath, "utf8")).toContain(LAUNCHD_LABEL)
        expect(fake.isLoaded()).toBe(true)
        expect((yield* driver.status).pid).toBe(4001)

        yield* driver.stop
        expect(fake.isLoaded()).toBe(false)
        expect((yield* driver.status).active).toBe("not loaded")
        yield* driver.start
        expect(fake.isLoaded()).toBe(true)
        yield* driver.start // already loaded: kickstart, not a second bootstrap
        yield* driver.restart
        yield* driver.stop
        yield* driver.restart // unloaded: bootstrap
        expect(yield* installUnit(driver, driver.render(spec()), false)).toBe("unchanged")
        yield* uninstallUnit(driver)
        expect(fs.existsSync(plistPath)).toBe(false)
        expect(fake.isLoaded()).toBe(false)

        expect(fake.calls).toEqual([
          "launchctl print gui/501",
          `launchctl print ${service}`,
          `launchctl bootstrap gui/501 ${plistPath}`,
          `launchctl print ${service}`,
          `launchctl print ${service}`,
          `launchctl bootout ${service}`,
          `launchctl print ${service}`,
          `launchctl print ${service}`,
          `launchctl bootstrap gui/501 ${plistPath}`,
          `launchctl print ${service}`,
          `launchctl kickstart ${service}`,
          `launchctl print ${service}`,
          `launchctl kickstart -k ${service}`,
          `launchctl print ${service}`,
          `launchctl bootout ${service}`,
          `launchctl print ${service}`,
          `launchctl bootstrap gui/501 ${plistPath}`,
          `launchctl print ${service}`,
          `launchctl bootout ${service}`
        ])
      }).pipe(Effect.provide(fake.layer))
    }
  )

  it.effect("a changed plist with --force is booted out and bootstrapped from the new file", () => {
    const fake = fakeLaunchctl()
    return Effect.gen(function* () {
      yield* installUnit(driver, driver.render(spec()), false)
      const changed = driver.render(spec({ args: ["gateway", "run", "--port", "18790"] }))
      const refused = yield* Effect.flip(installUnit(driver, changed, false))
      expect(refused._tag).toBe("UnitDiffers")
      expect(refused.message).toContain("+     <string>18790</string>")
      expect(yield* installUnit(driver, changed, true)).toBe("replaced")
      expect(fake.calls.slice(-3)).toEqual([
        `launchctl print ${service}`,
        `launchctl bootout ${service}`,
        `launchctl bootstrap gui/501 ${plistPath}`
      ])
      yield* uninstallUnit(driver)
    }).pipe(Effect.provide(fake.layer))
  })
})
