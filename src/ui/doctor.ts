/**
 * The Overview's "Diagnose" card: runs the Gateway's `doctor` method (operator.read: its process,
 * state dir, Tailscale exposure and security audit) and shows the same table as `openclaw doctor`,
 * the failing step's fix underneath. Self-contained: app.ts only places the card.
 */
import { h, replaceChildren } from "./dom.js"

interface DoctorStep {
  readonly id: string
  readonly ok: boolean | null
  readonly ms: number
  readonly detail: string
  readonly fix?: string
}

interface DoctorReport {
  readonly ok: boolean
  readonly steps: ReadonlyArray<DoctorStep>
}

const mark = (ok: boolean | null) => (ok === true ? "✓" : ok === false ? "✗" : "–")

// In its own scroll box: whatever a step reports, the page never scrolls sideways.
const table = (report: DoctorReport) =>
  h(
    "div",
    { className: "table-scroll" },
    h(
      "table",
      { className: "table doctor-table", id: "doctor-table" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, ""), h("th", {}, "Check"), h("th", {}, "Time"), h("th", {}, "What was seen"))
      ),
      h(
        "tbody",
        {},
        report.steps.flatMap((s) => [
          h(
            "tr",
            {
              "data-step": s.id,
              "data-ok": String(s.ok),
              className: s.ok === false ? "doctor-fail" : s.ok === true ? "doctor-ok" : "doctor-skip"
            },
            h("td", { className: "doctor-mark" }, mark(s.ok)),
            h("td", {}, s.id),
            h("td", {}, s.ok === null ? "" : `${s.ms} ms`),
            h("td", {}, s.detail)
          ),
          s.fix === undefined
            ? null
            : h(
                "tr",
                { className: "doctor-fix", "data-fix": s.id },
                h("td", {}, ""),
                h("td", {}, "fix"),
                h("td", {}, ""),
                h("td", {}, s.fix)
              )
        ])
      )
    )
  )

/** The card, made once so a re-rendered Overview keeps the last result. */
export const doctorCard = (run: () => Promise<DoctorReport>): HTMLElement => {
  const result = h(
    "div",
    { id: "doctor-result" },
    h(
      "p",
      { className: "muted small" },
      "Checks this Gateway's process and port, its state directory, its Tailscale exposure and the security audit, from the Gateway's side."
    )
  )
  let busy = false
  const button = h("button", { id: "diagnose" }, "Diagnose")
  button.addEventListener("click", async () => {
    if (busy) return
    busy = true
    button.setAttribute("disabled", "")
    replaceChildren(result, h("p", { className: "muted" }, "Diagnosing…"))
    try {
      const report = await run()
      const failed = report.steps.find((s) => s.ok === false)
      replaceChildren(
        result,
        h(
          "p",
          { id: "doctor-summary", className: failed ? "error" : "" },
          failed ? `Stopped at ${failed.id}: fix it and diagnose again.` : "All checks passed."
        ),
        table(report)
      )
    } catch (e) {
      replaceChildren(
        result,
        h("p", { id: "doctor-summary", className: "error" }, `Diagnose failed: ${(e as Error).message}`)
      )
    } finally {
      busy = false
      button.removeAttribute("disabled")
    }
  })
  return h(
    "section",
    { className: "card doctor", id: "doctor" },
    h("div", { className: "view-head" }, h("h3", {}, "Diagnose"), button),
    result
  )
}
