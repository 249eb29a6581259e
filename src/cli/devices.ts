/**
 * `openclaw devices list|approve|reject|rename|revoke|remove`: who can get in (node hosts and
 * browsers), when and where each was last seen, and cutting one off (operator.pairing).
 */
import { Args, Command } from "@effect/cli"
import { Console, Effect } from "effect"
import { GatewayClientError, type TargetConnection } from "../client/GatewayClient.js"
import { forTerminal as t, jsonForTerminal } from "../protocol/client-text.js"
import { clientOptions, withGateway } from "./client.js"
import { printJson } from "./output.js"

const SCOPES = ["operator.read", "operator.pairing"]

interface Pending {
  requestId: string
  deviceId: string
  displayName?: string
  platform?: string
  remoteAddress?: string
  role: string
  requestedAt: number
  expiresAt: number
}
interface Paired {
  deviceId: string
  displayName?: string
  role: string
  clientId: string
  platform?: string
  pairedAt: number
  lastSeenAt?: number
  lastAddress?: string
  connected: boolean
  signsInWith: string
  revoked: boolean
}
interface DeviceList {
  pending: Array<Pending>
  paired: Array<Paired>
}

const ago = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000))
  return s < 90
    ? `${s}s`
    : s < 5400
      ? `${Math.round(s / 60)}m`
      : s < 172_800
        ? `${Math.round(s / 3600)}h`
        : `${Math.round(s / 86_400)}d`
}

const table = (rows: Array<Array<string>>): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n")
}

/**
 * Client-chosen names are shown quoted when they hold anything unusual, so they cannot fake columns;
 * quoted with C1 and bidi escaped too. Every other string from the Gateway goes through `t` (forTerminal).
 */
const label = (s: string | undefined) =>
  s === undefined ? "-" : /^[\w .@()-]{1,40}$/.test(s) ? s : jsonForTerminal(s.slice(0, 40))

export const renderDevices = (p: DeviceList, now = Date.now()): string => {
  const out: Array<string> = []
  if (p.pending.length > 0) {
    out.push(`Pending (${p.pending.length}):`)
    out.push(
      table([
        ["REQUEST", "DEVICE", "NAME", "ROLE", "FROM", "ASKED", "EXPIRES"],
        ...p.pending.map((r) => [
          t(r.requestId.slice(0, 8)),
          t(r.deviceId.slice(0, 12)),
          label(r.displayName),
          t(r.role),
          t(r.remoteAddress ?? "-"),
          `${ago(now - r.requestedAt)} ago`,
          `in ${ago(r.expiresAt - now)}`
        ])
      ])
    )
    out.push("Approve with `openclaw devices approve <request>` (an 8-character prefix is enough), or reject it.", "")
  }
  if (p.paired.length === 0) {
    out.push("No paired devices.")
  } else {
    out.push(`Paired (${p.paired.length}):`)
    out.push(
      table([
        ["DEVICE", "NAME", "ROLE", "PLATFORM", "PAIRED", "LAST SEEN", "FROM", "SIGNS IN WITH", "CONNECTED"],
        ...p.paired.map((d) => [
          t(d.deviceId.slice(0, 12)),
          label(d.displayName),
          t(d.role),
          label(d.platform),
          `${ago(now - d.pairedAt)} ago`,
          d.connected ? "now" : d.lastSeenAt === undefined ? "never" : `${ago(now - d.lastSeenAt)} ago`,
          t(d.lastAddress ?? "-"),
          t(d.signsInWith),
          d.connected ? "yes" : "no"
        ])
      ])
    )
  }
  return out.join("\n")
}

const call = <A>(
  what: string,
  flags: Parameters<typeof withGateway>[0],
  body: (conn: TargetConnection) => Effect.Effect<A, GatewayClientError>
) => withGateway(flags, SCOPES, what, body)

const list = Command.make("list", clientOptions, (flags) =>
  call("Listing devices failed", flags, (conn) =>
    Effect.flatMap(conn.request("device.pair.list", {}, { timeoutMs: flags.timeout }), (p) =>
      flags.json ? printJson(p) : Console.log(renderDevices(p as DeviceList))
    )
  )
).pipe(Command.withDescription("Pairing requests and paired devices: last seen, from where, connected"))

const requestArg = Args.text({ name: "requestId" }).pipe(
  Args.withDescription("The request id from `openclaw devices list`, or a unique prefix of it")
)
const deviceArg = Args.text({ name: "device" }).pipe(
  Args.withDescription("Device id, a unique prefix of it (4+ characters), or its name")
)

/** The shortest request id prefix taken: an empty or short one must never pick "the only request". */
export const MIN_REQUEST_PREFIX = 8

/** A pending request by full id or unique prefix (MIN_REQUEST_PREFIX+ characters). */
const pendingRequest = (conn: TargetConnection, ref: string, timeoutMs: number) =>
  Effect.flatMap(conn.request("device.pair.list", {}, { timeoutMs }), (p) => {
    const matches = (p as DeviceList).pending.filter(
      (r) => r.requestId === ref || (ref.length >= MIN_REQUEST_PREFIX && r.requestId.startsWith(ref))
    )
    if (matches.length === 1) return Effect.succeed(matches[0]!)
    const shown = t(JSON.stringify(ref.slice(0, 80)))
    return Effect.fail(
      new GatewayClientError({
        kind: "protocol",
        code: matches.length === 0 ? "APPROVAL_NOT_FOUND" : "AMBIGUOUS_REQUEST",
        message:
          matches.length > 0
            ? `${shown} matches ${matches.length} pending requests; use more of the request id`
            : ref.length < MIN_REQUEST_PREFIX
              ? `${shown} is too short: give the whole request id or at least its first ${MIN_REQUEST_PREFIX} characters (\`openclaw devices list\` shows them)`
              : `no pending request ${shown} (requests expire after 5 minutes); \`openclaw devices list\` shows the open ones`
      })
    )
  })

const resolveRequest = (verb: "approve" | "reject") =>
  Command.make(verb, { ...clientOptions, requestId: requestArg }, (flags) =>
    call(`${verb === "approve" ? "Approving" : "Rejecting"} the request failed`, flags, (conn) =>
      Effect.gen(function* () {
        const request = yield* pendingRequest(conn, flags.requestId, flags.timeout)
        const r = yield* conn.request(
          `device.pair.${verb}`,
          { requestId: request.requestId },
          { timeoutMs: flags.timeout }
        )
        if (flags.json) return yield* printJson(r)
        yield* Console.log(
          verb === "approve"
            ? `Approved ${label(request.displayName)} (${t(request.deviceId.slice(0, 12))}, ${t(request.role)}). It connects on its next retry and receives a device token.`
            : `Rejected request ${t(request.requestId.slice(0, 8))} from ${label(request.displayName)} (${t(request.deviceId.slice(0, 12))}).`
        )
      })
    )
  ).pipe(
    Command.withDescription(
      verb === "approve" ? "Approve a pending pairing request" : "Reject a pending pairing request"
    )
  )

const nameArg = Args.text({ name: "name" }).pipe(Args.withDescription("The new display name (1-64 characters)"))

const rename = Command.make("rename", { ...clientOptions, device: deviceArg, name: nameArg }, (flags) =>
  call("Renaming the device failed", flags, (conn) =>
    Effect.flatMap(
      conn.request("device.rename", { deviceId: flags.device, displayName: flags.name }, { timeoutMs: flags.timeout }),
      (d) =>
        flags.json
          ? printJson(d)
          : Console.log(`Renamed ${t((d as Paired).deviceId.slice(0, 12))} to ${label((d as Paired).displayName)}.`)
    )
  )
).pipe(Command.withDescription("Give a paired device a name"))

const revoke = Command.make("revoke", { ...clientOptions, device: deviceArg }, (flags) =>
  call("Revoking the device failed", flags, (conn) =>
    Effect.flatMap(
      conn.request("device.token.revoke", { deviceId: flags.device }, { timeoutMs: flags.timeout }),
      (r) => {
        const p = r as { deviceId: string; role: string; closed: number }
        return flags.json
          ? printJson(r)
          : Console.log(
              `Revoked ${t(p.deviceId.slice(0, 12))} (${t(p.role)}): its device token no longer works${p.closed > 0 ? ` and its ${p.closed} live connection(s) were closed` : ""}. ${
                p.role === "node"
                  ? "It must be approved again to reconnect."
                  : "That browser or client is signed out and needs the shared secret to sign in again."
              } If the shared secret may have leaked too: \`openclaw gateway token rotate\`.`
            )
      }
    )
  )
).pipe(
  Command.withDescription("Cut a device off now: its token stops working and its connections close (it stays listed)")
)

const remove = Command.make("remove", { ...clientOptions, device: deviceArg }, (flags) =>
  call("Removing the device failed", flags, (conn) =>
    Effect.flatMap(
      conn.request("device.pair.remove", { deviceId: flags.device }, { timeoutMs: flags.timeout }),
      (r) => {
        const p = r as { deviceId: string; closed: number }
        return flags.json
          ? printJson(r)
          : Console.log(
              `Removed ${t(p.deviceId.slice(0, 12))}: revoked and forgotten${p.closed > 0 ? `; ${p.closed} live connection(s) closed` : ""}.`
            )
      }
    )
  )
).pipe(Command.withDescription("Revoke a device and forget it"))

export const devicesCommand = Command.make("devices").pipe(
  Command.withDescription("Who can get in: paired devices (nodes and browsers), pairing requests, revoking access"),
  Command.withSubcommands([list, resolveRequest("approve"), resolveRequest("reject"), rename, revoke, remove])
)
