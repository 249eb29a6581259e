/**
 * SshTunnel over mockProcesses: the argv ssh gets, failures classified from its stderr, the
 * readiness budget on TestClock, and the scope stopping ssh. (test/remote/ssh.test.ts runs the
 * real ssh against a real sshd.)
 */
import * as net from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { ProcessNotFound } from "../../../src/platform/process-runner.js"
import { type SshSpec, sshArgs, SshTunnel } from "../../../src/services/ssh/SshTunnel.js"
import { exits, mockProcesses, type ScriptedProcess } from "../../support/harness.js"
import { onTestClock } from "../../support/test-clock.js"

const spec: SshSpec = {
  target: "alice@gw.example:2222",
  destination: "alice@gw.example",
  host: "gw.example",
  port: 2222,
  identity: undefined,
  hostKeyPolicy: "strict",
  knownHostsFile: undefined,
  remotePort: 18789
}

/** SshTunnel whose `ssh` does what `program(localPort)` says; `seen` collects every argv. */
const sshDoes = (program: (localPort: number) => ScriptedProcess, seen: Array<ReadonlyArray<string>> = []) =>
  Effect.provide(
    SshTunnel.layerProcesses().pipe(
      Layer.provide(
        mockProcesses((argv) => {
          if (argv[0] !== "ssh") return undefined
          seen.push(argv)
          return program(Number(argv[argv.indexOf("-L") + 1]!.split(":")[1]))
        })
      )
    )
  )

/** A forward that accepts on 127.0.0.1:port while the scripted ssh runs. */
const listening = (port: number) =>
  Effect.acquireRelease(
    Effect.async<net.Server>((resume) => {
      const server = net.createServer((s) => s.destroy())
      server.listen({ host: "127.0.0.1", port }, () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

const portAccepts = (port: number) =>
  Effect.async<boolean>((resume) => {
    const s = net.connect({ host: "127.0.0.1", port })
    s.once("connect", () => (s.destroy(), resume(Effect.succeed(true))))
    s.once("error", () => resume(Effect.succeed(false)))
  })

describe("SshTunnel over mockProcesses", () => {
  it.effect("runs `ssh` with the fresh argv of sshArgs for the chosen local port", () => {
    const seen: Array<ReadonlyArray<string>> = []
    return Effect.gen(function* () {
      yield* Effect.flip(onTestClock(Effect.scoped((yield* SshTunnel).open(spec, { localPort: 41999 }))))
      // Exactly the argv of sshArgs (test/client/remote.test.ts checks its contents): nothing appended.
      expect(seen).toEqual([["ssh", ...sshArgs(spec, 41999)]])
      expect(seen[0]).toContain("StrictHostKeyChecking=yes")
    }).pipe(
      sshDoes(
        () => exits({ code: 255, stderr: "ssh: connect to host gw.example port 2222: Connection refused\n" }),
        seen
      )
    )
  })

  it.effect("an ssh that exits before the forward is up fails with its classified reason", () =>
    Effect.gen(function* () {
      const err = yield* Effect.flip(onTestClock(Effect.scoped((yield* SshTunnel).open(spec))))
      expect(err.kind).toBe("auth")
      expect(err.message).toBe(
        "the SSH server gw.example port 2222 refused the login for alice@gw.example: check gateway.remote.sshIdentity is a key without a passphrase prompt (or loaded in ssh-agent) whose public key is in that user's ~/.ssh/authorized_keys"
      )
    }).pipe(sshDoes(() => exits({ code: 255, stderr: "alice@gw.example: Permission denied (publickey).\n" })))
  )

  it.effect("no ssh on PATH: says which package to install", () =>
    Effect.gen(function* () {
      const err = yield* Effect.flip(onTestClock(Effect.scoped((yield* SshTunnel).open(spec))))
      expect(err).toMatchObject({ kind: "spawn", message: "ssh is not installed (apt-get install openssh-client)" })
    }).pipe(sshDoes(() => Effect.fail(new ProcessNotFound({ argv: ["ssh"], reason: "not found on PATH" }))))
  )

  it.effect("a forward that never accepts gives up after ConnectTimeout + 5 s of Clock time, and stops ssh", () => {
    const stopped: Array<boolean> = []
    return Effect.gen(function* () {
      const err = yield* Effect.flip(onTestClock(Effect.scoped((yield* SshTunnel).open(spec, { connectTimeoutS: 2 }))))
      expect(err).toMatchObject({
        kind: "timeout",
        message:
          "the SSH tunnel to gw.example port 2222 did not come up within 7 s: check gateway.remote.sshTarget and the network"
      })
      // The first look after the budget (it looks every 50 ms).
      expect(yield* Clock.currentTimeMillis).toBeGreaterThan(7_000)
      expect(yield* Clock.currentTimeMillis).toBeLessThanOrEqual(7_050)
      expect(stopped).toEqual([true])
    }).pipe(sshDoes(() => Effect.onInterrupt(Effect.never, () => Effect.sync(() => stopped.push(true)))))
  })

  it.effect("up: the tunnel reports its port and pid, and ssh's exit arrives classified", () => {
    let exitNow: () => void = () => {}
    const exitLater = new Promise<void>((resolve) => (exitNow = resolve))
    return Effect.gen(function* () {
      const tunnel = yield* onTestClock((yield* SshTunnel).open(spec))
      // A mock PID: above Linux's pid_max, so it can never be a real process.
      expect(tunnel.pid).toBeGreaterThan(4_194_304)
      expect(yield* portAccepts(tunnel.localPort)).toBe(true)
      const exited = yield* Effect.fork(tunnel.exited)
      exitNow()
      expect(yield* Fiber.join(exited)).toMatchObject({
        kind: "exited",
        message: "ssh to gw.example port 2222 exited (code 255): Connection to gw.example closed by remote host."
      })
    }).pipe(
      Effect.scoped,
      sshDoes((port) =>
        Effect.scoped(
          listening(port).pipe(
            Effect.zipRight(Effect.promise(() => exitLater)),
            Effect.zipRight(exits({ code: 255, stderr: "Connection to gw.example closed by remote host.\n" }))
          )
        )
      )
    )
  })

  it.effect("closing the tunnel's scope stops ssh", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const tunnel = yield* onTestClock(Scope.extend((yield* SshTunnel).open(spec), scope))
      expect(yield* portAccepts(tunnel.localPort)).toBe(true)
      yield* Scope.close(scope, Exit.void)
      expect(yield* portAccepts(tunnel.localPort)).toBe(false)
    }).pipe(sshDoes((port) => Effect.scoped(Effect.zipRight(listening(port), Effect.never))))
  )
})
