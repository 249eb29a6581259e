/**
 * Binder: turns gateway.bind into listening sockets. It owns the net.Servers (scoped: closed on
 * release) and hands each accepted socket to the Gateway, so one HTTP server can sit behind
 * several addresses (127.0.0.1 and ::1) on the same port.
 */
import * as net from "node:net"
import { findTailnetAddress, type InterfaceLister, isTailscaleAddress } from "../../platform/tailnet-address.js"
import * as os from "node:os"
import { Context, Data, Effect, Layer, Option, Redacted } from "effect"
import type { BindMode } from "../../config/schema.js"
import { exposurePhrase, secretWeakness, weakSecretMessage } from "../../config/secret-strength.js"
import { GatewayConfig, type GatewaySettings } from "../config/GatewayConfig.js"
import { TailscaleCli, type TailscaleCliService } from "../tailscale/TailscaleCli.js"

/** `config`: the settings are at fault (exit 78 like a ConfigError), not the machine. */
export class BindError extends Data.TaggedError("BindError")<{
  readonly message: string
  readonly code?: string
  readonly config?: boolean
}> {}

export interface BoundAddress {
  readonly host: string
  readonly port: number
  readonly family: "IPv4" | "IPv6"
}

export interface Listeners {
  readonly port: number
  readonly addresses: ReadonlyArray<BoundAddress>
  /** The address clients on this machine should use (first bound host). */
  readonly primaryHost: string
  /** The mode actually in force: "auto" resolves to loopback or lan. */
  readonly effectiveMode: Exclude<BindMode, "auto">
}

export interface BinderService {
  readonly bind: (
    port: number,
    onConnection: (socket: net.Socket) => void
  ) => Effect.Effect<Listeners, BindError, import("effect").Scope.Scope>
}

export { findTailnetAddress, type InterfaceLister, isTailscaleAddress }

/** IPv4 first (what a user types and what most clients reach), then IPv6, each in Tailscale's order. */
const ipv4First = (ips: ReadonlyArray<string>): Array<string> => [
  ...ips.filter((ip) => net.isIPv4(ip)),
  ...ips.filter((ip) => net.isIPv6(ip))
]

const NO_TAILNET_ADDRESS =
  'gateway.bind is "tailnet" but this machine has no Tailscale address (100.64.0.0/10 or fd7a:115c:a1e0::/48): start Tailscale (`tailscale up`) or choose another gateway.bind'

/**
 * This node's tailnet address: the one `tailscale status --json` reports (Self.TailscaleIPs, IPv4
 * first) that an interface here holds. Any 100.64.0.0/10 address would do only by luck: behind
 * carrier-grade NAT the WAN address is in that range too. The range scan is the fallback only when
 * there is no tailscale CLI to ask, and says so.
 */
export const resolveTailnetAddress = (
  interfaces: InterfaceLister,
  tailscale: TailscaleCliService | undefined
): Effect.Effect<string, BindError> =>
  Effect.gen(function* () {
    const scan = (why: string) =>
      Effect.gen(function* () {
        const address = findTailnetAddress(interfaces)
        if (address === undefined) return yield* new BindError({ message: `${NO_TAILNET_ADDRESS} (${why})` })
        yield* Effect.logWarning(
          `gateway.bind "tailnet": ${why}, so the Gateway binds ${address}, the first address in Tailscale's range on this machine's interfaces, without Tailscale confirming it is this node's; install the tailscale CLI (or set OPENCLAW_TAILSCALE_BIN) so the Gateway binds the address Tailscale reports`
        )
        return address
      })
    if (tailscale === undefined) return yield* scan("no tailscale CLI is available to this Gateway")
    const status = yield* Effect.either(tailscale.status)
    if (status._tag === "Left") {
      if (status.left.kind === "binary-missing") return yield* scan("the tailscale CLI was not found")
      return yield* new BindError({
        message: `gateway.bind is "tailnet" but Tailscale could not say which address is this node's: ${status.left.message}`
      })
    }
    const reported = ipv4First(status.right.tailscaleIps)
    if (reported.length === 0) {
      return yield* new BindError({
        message: `gateway.bind is "tailnet" but \`tailscale status\` reports no address for this node (state ${status.right.backendState}): run \`tailscale up\` and log in, or choose another gateway.bind`
      })
    }
    const held = new Set(
      Object.values(interfaces()).flatMap((infos) => (infos ?? []).map((i) => i.address.toLowerCase()))
    )
    const address = reported.find((ip) => held.has(ip.toLowerCase()))
    if (address === undefined) {
      return yield* new BindError({
        message: `gateway.bind is "tailnet": Tailscale reports ${reported.join(", ")} for this node, but no network interface here holds it (tailscaled in userspace-networking mode?): use gateway.bind "loopback" with gateway.tailscale.mode "serve", or choose another gateway.bind`
      })
    }
    return address
  })

export interface BinderOptions {
  /** Asked for this node's tailnet address; without it "tailnet" falls back to the range scan. */
  readonly tailscale?: TailscaleCliService
  /** Why "auto" may not fall back to every interface (a weak secret), if it may not. */
  readonly lanFallbackRefusal?: string
}

/** For "auto": the refusal to fall back to every interface with a secret too weak for it. */
export const autoFallbackRefusal = (s: GatewaySettings): string | undefined => {
  if (s.bind !== "auto" || (s.auth.mode !== "token" && s.auth.mode !== "password")) return undefined
  const secret = s.auth.mode === "token" ? s.auth.token : s.auth.password
  if (secret === undefined) return undefined
  const weakness = secretWeakness(s.auth.mode, Redacted.value(secret))
  return weakness === undefined
    ? undefined
    : weakSecretMessage(
        s.auth.mode,
        s.auth.secretSource ?? `gateway.auth.${s.auth.mode}`,
        weakness,
        exposurePhrase("auto", "off")
      )
}

interface Planned {
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly required: boolean }>
  readonly mode: Exclude<BindMode, "auto">
}

const listenOne = (server: net.Server, host: string, port: number) =>
  Effect.async<number, NodeJS.ErrnoException>((resume) => {
    const onError = (err: NodeJS.ErrnoException) => resume(Effect.fail(err))
    server.once("error", onError)
    // A deep accept queue (the kernel caps it at net.core.somaxconn): under a flood of connects a
    // real client's SYN waits its turn instead of being dropped and retried a second later.
    server.listen({ host, port, exclusive: true, ipv6Only: host === "::1", backlog: 4096 }, () => {
      server.off("error", onError)
      resume(Effect.succeed((server.address() as net.AddressInfo).port))
    })
  })

const closeServer = (server: net.Server) =>
  Effect.async<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
  })

const describeBindError = (err: NodeJS.ErrnoException, host: string, port: number, mode: BindMode): string => {
  switch (err.code) {
    case "EADDRINUSE":
      return `port ${port} is already in use on ${host}: another Gateway may be running (check \`openclaw gateway status\`), or choose another port with --port or gateway.port`
    case "EACCES":
      return `permission denied binding ${host}:${port}: ports below 1024 need privileges; choose another port with --port or gateway.port`
    case "EADDRNOTAVAIL":
      return `cannot bind ${host}:${port}: no such address on this machine (gateway.bind is "${mode}"${mode === "custom" ? "; check gateway.customBindHost" : ""})`
    default:
      return `cannot listen on ${host}:${port}: ${err.code ?? err.message}`
  }
}

export const makeBinder = (
  mode: BindMode,
  customHost: string | undefined,
  interfaces: InterfaceLister,
  options: BinderOptions = {}
): BinderService => {
  const plan = (): Effect.Effect<Planned, BindError> => {
    switch (mode) {
      case "loopback":
      case "auto":
        return Effect.succeed({
          mode: "loopback",
          hosts: [
            { host: "127.0.0.1", required: true },
            { host: "::1", required: false }
          ]
        })
      case "lan":
        return Effect.succeed({
          mode: "lan",
          hosts: [
            { host: "0.0.0.0", required: true },
            { host: "::", required: false }
          ]
        })
      case "custom":
        return Effect.succeed({ mode: "custom", hosts: [{ host: customHost!, required: true }] })
      case "tailnet":
        return Effect.map(resolveTailnetAddress(interfaces, options.tailscale), (address): Planned => ({
          mode: "tailnet",
          hosts: [{ host: address, required: true }]
        }))
    }
  }

  const bindPlanned = (planned: Planned, port: number, onConnection: (socket: net.Socket) => void) =>
    Effect.gen(function* () {
      const addresses: Array<BoundAddress> = []
      let actualPort = port
      for (const { host, required } of planned.hosts) {
        const server = net.createServer({ noDelay: true }, onConnection)
        // The close is registered with the listen (uninterruptible): a stop while listen() is
        // pending cannot leave a socket listening with nobody to close it.
        const result = yield* Effect.acquireRelease(Effect.either(listenOne(server, host, actualPort)), () =>
          closeServer(server)
        )
        if (result._tag === "Left") {
          const err = result.left
          // "::" after "0.0.0.0" on a dual-stack host, or no IPv6 at all: the required address covers it.
          if (!required) continue
          return yield* new BindError({ message: describeBindError(err, host, actualPort, mode), code: err.code })
        }
        actualPort = result.right
        addresses.push({ host, port: actualPort, family: net.isIPv6(host) ? "IPv6" : "IPv4" })
      }
      return {
        port: actualPort,
        addresses,
        primaryHost: addresses[0]!.host,
        effectiveMode: planned.mode
      } satisfies Listeners
    })

  return {
    bind: (port, onConnection) =>
      Effect.gen(function* () {
        const planned = yield* plan()
        if (mode !== "auto") return yield* bindPlanned(planned, port, onConnection)
        // auto: loopback when it can be bound, otherwise every interface (then the non-loopback rules apply).
        const loopback = yield* Effect.either(bindPlanned(planned, port, onConnection))
        if (loopback._tag === "Right") return loopback.right
        if (loopback.left.code !== "EADDRNOTAVAIL" && loopback.left.code !== "EAFNOSUPPORT") return yield* loopback.left
        if (options.lanFallbackRefusal !== undefined)
          return yield* new BindError({ message: options.lanFallbackRefusal, config: true })
        yield* Effect.logWarning(
          `gateway.bind "auto": loopback could not be bound (${loopback.left.message}); binding all interfaces instead`
        )
        return yield* bindPlanned(
          {
            mode: "lan",
            hosts: [
              { host: "0.0.0.0", required: true },
              { host: "::", required: false }
            ]
          },
          port,
          onConnection
        )
      }).pipe(Effect.withSpan("Binder.bind"))
  }
}

export class Binder extends Context.Tag("openclaw/Binder")<Binder, BinderService>() {
  /** Uses TailscaleCli for the tailnet address when the context has one (gatewayServices provides it). */
  static layer = Layer.effect(Binder, Binder.make(os.networkInterfaces))
  /** A Binder that sees the given network interfaces instead of the machine's (tailnet tests). */
  static layerWithInterfaces = (interfaces: InterfaceLister) => Layer.effect(Binder, Binder.make(interfaces))

  private static make(interfaces: InterfaceLister) {
    return Effect.gen(function* () {
      const s = yield* GatewayConfig
      const tailscale = Option.getOrUndefined(yield* Effect.serviceOption(TailscaleCli))
      return makeBinder(s.bind, s.customBindHost, interfaces, { tailscale, lanFallbackRefusal: autoFallbackRefusal(s) })
    })
  }
}
