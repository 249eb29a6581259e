/** The Overview screen: reachability, the Gateway's status and exposure, the agent, and the Diagnose card. */
import { type GatewayConnection, UI_VERSION } from "../connection.js"
import { ago, h, replaceChildren } from "../dom.js"
import { doctorCard } from "../doctor.js"
import { refresh } from "../router.js"
import { main } from "../shell.js"
import { hasMethod, state } from "../state.js"

const kv = (label: string, value: Node | string, field?: string) =>
  h("div", { className: "kv" }, h("dt", {}, label), h("dd", { "data-field": field }, value))

const reachability = (): string => {
  const c = state.connState
  if (c.kind !== "connected") {
    if (state.shutdown !== undefined) return `no: the Gateway shut down (${state.shutdown})`
    return c.kind === "waiting" ? `no: ${c.reason}` : "connecting…"
  }
  return state.healthOk === undefined
    ? "checking…"
    : state.healthOk
      ? `yes (health ${state.healthMs} ms)`
      : "answers, but health is NOT OK"
}

/** AB:CD:...: a line may break only between bytes, never inside one (each byte is one span). */
const fingerprintCode = (fp: string) =>
  h(
    "code",
    { className: "fingerprint" },
    "sha256 ",
    fp.split(":").flatMap((b, i, all) => [h("span", { className: "byte" }, i < all.length - 1 ? `${b}:` : b), h("wbr")])
  )

/** "operator via tailscale as alice@example.com": a Tailscale sign-in names its user (this page's presence entry). */
const signedInAs = (): string => {
  const hello = state.hello
  if (hello === undefined) return "—"
  const own = state.presence.find((p) => p.connId === hello.server.connId)
  const login: unknown = own?.user?.login
  return `${hello.auth.role} via ${hello.auth.method}${typeof login === "string" ? ` as ${login}` : ""}`
}

export const renderOverview = () => {
  const s = state.status ?? {}
  const hello = state.hello
  const exposure = s.exposure
  const urls = exposure ? [exposure.url, exposure.wsUrl].filter(Boolean) : []
  replaceChildren(
    main,
    h(
      "section",
      { id: "overview" },
      h(
        "div",
        { className: "view-head" },
        h("h2", {}, "Overview"),
        h("button", { id: "refresh", onclick: () => void refresh() }, "Refresh")
      ),
      h(
        "div",
        { className: "grid" },
        h(
          "dl",
          { className: "card" },
          h("h3", {}, "Reachability"),
          kv("Reachable", reachability(), "reachable"),
          kv("WebSocket", state.url, "url"),
          kv("Signed in as", signedInAs(), "auth-method"),
          kv("Scopes", hello ? hello.auth.scopes.join(", ") : "—", "scopes")
        ),
        h(
          "dl",
          { className: "card" },
          h("h3", {}, "Gateway"),
          kv("Version", `${s.version ?? hello?.server.version ?? "?"} (protocol ${hello?.protocol ?? "?"})`, "version"),
          kv("Uptime", s.uptimeMs === undefined ? "—" : ago(s.uptimeMs), "uptime"),
          kv(
            "Bind",
            s.bind
              ? `${s.bind.mode}${s.bind.effectiveMode && s.bind.effectiveMode !== s.bind.mode ? ` → ${s.bind.effectiveMode}` : ""} on ${(s.bind.addresses ?? []).join(", ")} port ${s.bind.port}`
              : "not reported",
            "bind"
          ),
          kv(
            "Auth",
            s.auth
              ? `${s.auth.mode}${s.auth.secretSource ? ` (from ${s.auth.secretSource})` : ""}${s.auth.allowTailscale ? ", Tailscale identity allowed" : ""}`
              : (hello?.snapshot.authMode ?? "—"),
            "auth"
          ),
          kv("Clients", s.clients === undefined ? "—" : `${s.clients} operator(s), ${s.nodes ?? 0} node(s)`, "clients")
        ),
        h(
          "dl",
          { className: "card" },
          h("h3", {}, "Exposure"),
          kv(
            "Tailscale",
            !exposure || exposure.mode === "off"
              ? "off (not exposed beyond the bind)"
              : `${exposure.mode}: ${exposure.state}`,
            "exposure"
          ),
          urls.length > 0
            ? kv(
                "URLs",
                h(
                  "span",
                  {},
                  urls.map((u: string) => h("div", {}, h("code", {}, u)))
                ),
                "exposure-urls"
              )
            : null,
          exposure?.reason ? kv("Reason", exposure.reason, "exposure-reason") : null,
          kv("TLS", s.tls?.enabled ? "on" : "off", "tls"),
          s.tls?.fingerprint ? kv("Fingerprint", fingerprintCode(s.tls.fingerprint), "tls-fingerprint") : null
        ),
        h(
          "dl",
          { className: "card" },
          h("h3", {}, "Agent"),
          kv(
            "Provider",
            s.agent ? (s.agent.provider === "echo" ? `${s.agent.label} — the default` : s.agent.label) : "—",
            "agent-provider"
          ),
          kv(
            "Sessions",
            s.agent
              ? `${s.agent.sessions} (${s.agent.persistence === "jsonl" ? "saved on the Gateway host" : "in memory"})`
              : "—",
            "agent-sessions"
          ),
          kv("Running", s.agent ? String(s.agent.activeRuns) : "—", "agent-runs")
        )
      ),
      hasMethod("doctor") ? diagnose : null,
      h("p", { className: "muted small" }, `Control UI ${UI_VERSION}`)
    )
  )
}

/** Runs the Gateway's `doctor` checks; made once so the result survives re-renders. */
const diagnose = doctorCard(() => state.conn!.request("doctor"))

export const loadOverview = async (conn: GatewayConnection) => {
  const t0 = performance.now()
  const health = await conn.request("health")
  state.healthMs = Math.round(performance.now() - t0)
  state.healthOk = health?.ok !== false
  state.status = await conn.request("status")
}
