/**
 * TailscaleCli: the one place that runs the `tailscale` binary (shared/tailscale.md).
 *
 * Every call goes through the ProcessRunner boundary with a timeout on Effect's Clock; every failure is a TailscaleError of a known kind whose message says
 * what to do. Raw stderr is only matched against known phrases and never copied into a message
 * (it can hold auth keys). Exit 0 does not prove that a route exists, so callers read
 * `serve status --json` back (see TailscaleExposure).
 */
import { Context, Data, Duration, Effect, Either, Layer, type Schema } from "effect"
import { findOnPath, isExecutable } from "../../platform/executable.js"
import { liveProcesses, ProcessRunner, type ProcessRunnerService } from "../../platform/process-runner.js"
import { decodeTailscaleJson, ServeStatusJson, StatusJson, WhoisJson } from "./json.js"

export type TailscaleErrorKind =
  | "binary-missing"
  | "daemon-down"
  | "logged-out"
  | "https-disabled"
  | "funnel-not-allowed"
  | "permission-denied"
  | "route-conflict"
  | "not-confirmed"
  | "peer-not-found"
  | "timeout"
  | "bad-output"
  | "failed"

export class TailscaleError extends Data.TaggedError("TailscaleError")<{
  readonly kind: TailscaleErrorKind
  readonly message: string
}> {}

export type ExposureMode = "serve" | "funnel"

export interface TailscaleStatus {
  readonly backendState: string
  /** MagicDNS name without the trailing dot, e.g. gw.tail1234.ts.net ("" when unknown). */
  readonly dnsName: string
  readonly tailscaleIps: ReadonlyArray<string>
  /** Empty when HTTPS certificates are not enabled for the tailnet. */
  readonly certDomains: ReadonlyArray<string>
  readonly funnelAllowed: boolean
}

export interface WhoisResult {
  readonly loginName: string
  readonly displayName: string | undefined
  readonly tagged: boolean
}

/** One web route of `serve status --json`: host:port, mount path, proxy target, funnel on/off. */
export interface ServeRoute {
  readonly host: string
  readonly httpsPort: number
  readonly path: string
  /** Proxy target, or a description of a non-proxy handler (path/text). */
  readonly target: string
  readonly funnel: boolean
}

export interface ServeState {
  readonly routes: ReadonlyArray<ServeRoute>
  /** TCP ports forwarded as raw TCP (not HTTPS web routes), with their target. */
  readonly tcpForwards: ReadonlyArray<{ readonly port: number; readonly target: string }>
}

export interface TailscaleCliService {
  readonly status: Effect.Effect<TailscaleStatus, TailscaleError>
  readonly whois: (address: string) => Effect.Effect<WhoisResult, TailscaleError>
  readonly serveStatus: Effect.Effect<ServeState, TailscaleError>
  /** `tailscale <mode> --bg --yes --https=<port> <target>` */
  readonly enable: (mode: ExposureMode, httpsPort: number, target: string) => Effect.Effect<void, TailscaleError>
  /** `tailscale <mode> --https=<port> off --yes`: only that route, never `reset`. */
  readonly disable: (mode: ExposureMode, httpsPort: number) => Effect.Effect<void, TailscaleError>
}

export const MAC_APP_PATH = "/Applications/Tailscale.app/Contents/MacOS/Tailscale"

/** `tailscale` on the given PATH, else the macOS app's CLI. */
/**
 * Where packages install tailscale, searched when the caller passed no environment (a config built
 * in code): a layer does not read this process's PATH on its own; gateway.tailscale.binary names any other.
 */
export const STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/homebrew/bin"

export const locateTailscale = (searchPath: string | undefined): string | undefined =>
  findOnPath(["tailscale"], searchPath) ?? (isExecutable(MAC_APP_PATH) ? MAC_APP_PATH : undefined)

/** For the CLI's own callers: OPENCLAW_TAILSCALE_BIN of `env`, else `tailscale` on its PATH, else the macOS app's CLI. */
export const findTailscaleBinary = (env: Readonly<Record<string, string | undefined>>): string | undefined => {
  const override = env.OPENCLAW_TAILSCALE_BIN?.trim()
  if (override) return isExecutable(override) ? override : undefined
  return locateTailscale(env.PATH)
}

/** What to do about each failure: shared by classification here and by TailscaleExposure's status checks. */
export const FIX = {
  /** `configured`: the binary that was set (gateway.tailscale.binary or OPENCLAW_TAILSCALE_BIN), if any. */
  binaryMissing: (configured: string | undefined) =>
    configured !== undefined
      ? `the tailscale CLI set in gateway.tailscale.binary or OPENCLAW_TAILSCALE_BIN (${configured}) is not an executable file: point it at the tailscale CLI or unset it`
      : `the tailscale CLI was not found (looked on PATH and at ${MAC_APP_PATH}): install Tailscale (https://tailscale.com/download) or set gateway.tailscale.binary (OPENCLAW_TAILSCALE_BIN) to its path`,
  daemonDown: "tailscaled is not running: start it (`sudo systemctl start tailscaled`, or open the Tailscale app)",
  loggedOut: "Tailscale is logged out: run `tailscale up` (or `sudo tailscale up`) and log in",
  permission:
    "this user may not change Tailscale Serve settings: run `sudo tailscale set --operator=$USER` once, then restart the Gateway",
  funnel:
    'Funnel is not allowed for this node by the tailnet policy: add the "funnel" node attribute in the Tailscale admin console (Access controls), or use gateway.tailscale.mode "serve"',
  https:
    "HTTPS certificates are not enabled for this tailnet, so Serve cannot publish an https:// URL: enable HTTPS on the DNS page of the Tailscale admin console (https://login.tailscale.com/admin/dns)"
}

/** Maps a failed run to a kind by known phrases only; nothing from stderr is copied. */
export const classifyFailure = (what: string, exitCode: number | string, output: string): TailscaleError => {
  const o = output.toLowerCase()
  const e = (kind: TailscaleErrorKind, message: string) => new TailscaleError({ kind, message })
  if (
    o.includes("failed to connect to local tailscaled") ||
    o.includes("failed to connect to local tailscale daemon") ||
    o.includes("doesn't appear to be running")
  ) {
    return e("daemon-down", FIX.daemonDown)
  }
  if (o.includes("access denied") || o.includes("permission denied") || o.includes("operator"))
    return e("permission-denied", FIX.permission)
  if (o.includes("logged out") || o.includes("needslogin") || o.includes("not logged in"))
    return e("logged-out", FIX.loggedOut)
  if (
    o.includes("funnel not available") ||
    o.includes("not allowed for funnel") ||
    o.includes('"funnel" node attribute')
  ) {
    return e("funnel-not-allowed", FIX.funnel)
  }
  if (o.includes("peer not found") || o.includes("no match for ip"))
    return e("peer-not-found", `${what}: peer not found in the tailnet`)
  if (o.includes("already serving") || o.includes("already in use") || o.includes("would overwrite")) {
    return e(
      "route-conflict",
      `${what}: the HTTPS port already holds another Serve route; see \`tailscale serve status\``
    )
  }
  if (o.includes("https") && (o.includes("not enabled") || o.includes("cert"))) return e("https-disabled", FIX.https)
  return e("failed", `${what} failed (exit ${exitCode}); run it by hand to see why`)
}

const parseJson = <A, I>(what: string, stdout: string, schema: Schema.Schema<A, I>): Effect.Effect<A, TailscaleError> =>
  Effect.flatMap(
    Effect.try({
      try: () => JSON.parse(stdout.trim() === "" ? "{}" : stdout) as unknown,
      catch: () =>
        new TailscaleError({ kind: "bad-output", message: `${what} did not print JSON; is this the tailscale CLI?` })
    }),
    (json) =>
      Either.match(decodeTailscaleJson(schema, json), {
        onLeft: (field) =>
          Effect.fail(
            new TailscaleError({
              kind: "bad-output",
              message: `${what} printed JSON of an unexpected shape (${field}); is this a supported tailscale version?`
            })
          ),
        onRight: Effect.succeed
      })
  )

export const parseStatus = (json: typeof StatusJson.Type): TailscaleStatus => {
  const self = json.Self ?? {}
  const caps = self.Capabilities ?? []
  return {
    backendState: json.BackendState ?? "NoState",
    dnsName: (self.DNSName ?? "").replace(/\.$/, ""),
    tailscaleIps: [...(self.TailscaleIPs ?? [])],
    certDomains: [...(json.CertDomains ?? [])],
    funnelAllowed: "funnel" in (self.CapMap ?? {}) || caps.includes("funnel") || caps.some((c) => c.endsWith("/funnel"))
  }
}

export const parseWhois = (json: typeof WhoisJson.Type): WhoisResult => {
  const login = json.UserProfile?.LoginName
  return {
    loginName: login ?? "",
    displayName: json.UserProfile?.DisplayName,
    tagged: (json.Node?.Tags ?? []).length > 0 || login === "tagged-devices"
  }
}

const handlerTarget = (h: { readonly Proxy?: string; readonly Path?: string; readonly Text?: unknown }): string =>
  h.Proxy ?? (h.Path !== undefined ? `path ${h.Path}` : h.Text !== undefined ? "a text handler" : "a handler")

export const parseServeStatus = (json: typeof ServeStatusJson.Type): ServeState => {
  const funnelOn = json.AllowFunnel ?? {}
  const routes: Array<ServeRoute> = []
  for (const [hostPort, cfg] of Object.entries(json.Web ?? {})) {
    const i = hostPort.lastIndexOf(":")
    const host = i < 0 ? hostPort : hostPort.slice(0, i)
    const httpsPort = i < 0 ? 443 : Number(hostPort.slice(i + 1))
    for (const [mount, handler] of Object.entries(cfg.Handlers ?? {})) {
      routes.push({ host, httpsPort, path: mount, target: handlerTarget(handler), funnel: funnelOn[hostPort] === true })
    }
  }
  const tcpForwards: Array<{ port: number; target: string }> = []
  for (const [port, cfg] of Object.entries(json.TCP ?? {})) {
    if (cfg.TCPForward !== undefined) tcpForwards.push({ port: Number(port), target: `tcp ${cfg.TCPForward}` })
  }
  return { routes, tcpForwards }
}

export interface RunOptions {
  /**
   * The environment of each `tailscale` run, and where it is looked for (OPENCLAW_TAILSCALE_BIN, PATH).
   * Default: the process's own, as any program started by this one inherits it; only its PATH is read.
   */
  readonly env?: NodeJS.ProcessEnv
  /** Default 10 s (gateway.tailscale.timeoutMs). */
  readonly timeoutMs?: number
  /** The tailscale executable (gateway.tailscale.binary); default: found as above. Tests over mockProcesses pass "tailscale". */
  readonly binary?: string
}

/** Runs the binary through the process boundary: stdout on exit 0, a classified error otherwise. */
const runWith =
  (processes: ProcessRunnerService, options: RunOptions) =>
  (args: ReadonlyArray<string>): Effect.Effect<string, TailscaleError> =>
    Effect.suspend(() => {
      const env = options.env
      // A path that is not executable is a setting to fix; a bare name not found on PATH, an install.
      const given = options.binary ?? env?.OPENCLAW_TAILSCALE_BIN?.trim()
      const configured = given !== undefined && given.includes("/") ? given : undefined
      const bin =
        options.binary !== undefined
          ? isExecutable(options.binary) || !options.binary.includes("/")
            ? options.binary
            : undefined
          : env !== undefined
            ? findTailscaleBinary(env)
            : locateTailscale(STANDARD_PATH)
      const what = `\`tailscale ${args.filter((a) => a !== "--json").join(" ")}\``
      const missing = new TailscaleError({ kind: "binary-missing", message: FIX.binaryMissing(configured) })
      if (bin === undefined) return Effect.fail(missing)
      const timeoutMs = options.timeoutMs ?? 10_000
      return processes
        .run([bin, ...args], { ...(env === undefined ? {} : { env }), timeout: Duration.millis(timeoutMs) })
        .pipe(
          Effect.mapError((e) => {
            switch (e._tag) {
              case "ProcessNotFound":
                return missing
              case "ProcessTimedOut":
                return new TailscaleError({
                  kind: "timeout",
                  message: `${what} did not finish within ${Math.round(timeoutMs / 1000)} s (tailscaled may be stuck, or waiting for an admin to approve): check \`tailscale status\``
                })
              case "ProcessExitedNonZero":
                return classifyFailure(what, e.code, `${e.stderr}\n${e.stdout}`)
              case "ProcessKilled":
                return classifyFailure(what, e.signal, `${e.stderr}\n${e.stdout}`)
            }
          })
        )
    })

/** TailscaleCli over a ProcessRunner (the live one, or a test's mockProcesses). */
export const makeWith = (processes: ProcessRunnerService, options: RunOptions = {}): TailscaleCliService => {
  const run = runWith(processes, options)
  const json = <A, I>(args: ReadonlyArray<string>, schema: Schema.Schema<A, I>) =>
    Effect.flatMap(run(args), (out) => parseJson(`\`tailscale ${args.join(" ")}\``, out, schema))
  return {
    status: Effect.map(json(["status", "--json"], StatusJson), parseStatus),
    whois: (address) =>
      Effect.flatMap(json(["whois", "--json", address], WhoisJson), (j) => {
        const w = parseWhois(j)
        return w.loginName === "" && !w.tagged
          ? Effect.fail(
              new TailscaleError({ kind: "peer-not-found", message: `\`tailscale whois ${address}\` returned no user` })
            )
          : Effect.succeed(w)
      }),
    serveStatus: Effect.map(json(["serve", "status", "--json"], ServeStatusJson), parseServeStatus),
    enable: (mode, httpsPort, target) => Effect.asVoid(run([mode, "--bg", "--yes", `--https=${httpsPort}`, target])),
    disable: (mode, httpsPort) => Effect.asVoid(run([mode, `--https=${httpsPort}`, "off", "--yes"]))
  }
}

/** Runs the real binary (for callers outside a Layer, such as `openclaw doctor`). */
export const make = (options: RunOptions = {}): TailscaleCliService => makeWith(liveProcesses, options)

/** For the CLI's own callers: the per-call timeout OPENCLAW_TAILSCALE_TIMEOUT_MS of `env` (tests use short ones). */
export const timeoutFromEnv = (env: Readonly<Record<string, string | undefined>>): number => {
  const n = Number(env.OPENCLAW_TAILSCALE_TIMEOUT_MS)
  return Number.isFinite(n) && n > 0 ? n : 10_000
}

/** The MagicDNS name of layerTest's node. */
const FAKE_HOST = "gw.tail1234.ts.net"

export class TailscaleCli extends Context.Tag("openclaw/TailscaleCli")<TailscaleCli, TailscaleCliService>() {
  /** Runs `tailscale` through the ProcessRunner it is given (src/layers/index.ts gives the live one). */
  static layerProcesses = (options: RunOptions = {}) =>
    Layer.effect(
      TailscaleCli,
      Effect.map(ProcessRunner, (processes) => makeWith(processes, options))
    )

  /** Runs the real binary. */
  static layer = TailscaleCli.layerProcesses().pipe(Layer.provide(ProcessRunner.layer))

  /**
   * A fake Tailscale for tests and embedders: a logged-in node gw.tail1234.ts.net that remembers
   * its routes like the real CLI (`enable` sets the "/" route on the port, as Serve or Funnel;
   * `disable` removes it; `serveStatus` reports them), and `whois` finds nobody. `partial` replaces
   * any call; an `enable` or `disable` given there decides success or failure, and the fake still
   * remembers what succeeded, so overriding `enable` alone (to count calls, or fail once) works.
   * Each build of the layer starts with no routes.
   */
  static layerTest = (partial: Partial<TailscaleCliService> = {}) =>
    Layer.sync(TailscaleCli, () => {
      let routes: ReadonlyArray<ServeRoute> = []
      const status: TailscaleCliService["status"] =
        partial.status ??
        Effect.succeed({
          backendState: "Running",
          dnsName: FAKE_HOST,
          tailscaleIps: ["100.101.102.103"],
          certDomains: [FAKE_HOST],
          funnelAllowed: true
        })
      const hostName = Effect.map(Effect.either(status), (st) =>
        Either.isRight(st) && st.right.dnsName !== "" ? st.right.dnsName : FAKE_HOST
      )
      const withoutPort = (httpsPort: number) => routes.filter((r) => r.httpsPort !== httpsPort)
      return {
        status,
        whois: () => Effect.fail(new TailscaleError({ kind: "peer-not-found", message: "peer not found" })),
        serveStatus: Effect.sync(() => ({ routes, tcpForwards: [] })),
        ...partial,
        enable: (mode, httpsPort, target) =>
          Effect.gen(function* () {
            if (partial.enable !== undefined) yield* partial.enable(mode, httpsPort, target)
            const host = yield* hostName
            routes = [...withoutPort(httpsPort), { host, httpsPort, path: "/", target, funnel: mode === "funnel" }]
          }),
        disable: (mode, httpsPort) =>
          Effect.gen(function* () {
            if (partial.disable !== undefined) yield* partial.disable(mode, httpsPort)
            routes = withoutPort(httpsPort)
          })
      } satisfies TailscaleCliService
    })
}
