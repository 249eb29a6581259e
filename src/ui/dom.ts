/** A tiny DOM builder. Text always goes in as text nodes (never HTML), so Gateway data cannot inject markup. */

type Child = Node | string | number | false | null | undefined
type Attrs = Record<string, string | number | boolean | ((e: any) => void) | undefined>

export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Array<Child | Array<Child>>
): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, "").toLowerCase(), v)
    else if (k === "value" && "value" in el) (el as HTMLInputElement).value = String(v)
    else el.setAttribute(k === "className" ? "class" : k, v === true ? "" : String(v))
  }
  append(el, children)
  return el
}

const append = (el: Element, children: Array<Child | Array<Child>>) => {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue
    el.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c)
  }
}

export const replaceChildren = (el: Element, ...children: Array<Child | Array<Child>>) => {
  el.replaceChildren()
  append(el, children)
}

/**
 * Makes `el`'s children exactly `nodes`, moving only those out of place: a node taken out of the
 * page loses any selection in it, so what stays where it was is left alone.
 */
export const syncChildren = (el: Element, nodes: ReadonlyArray<Node>) => {
  nodes.forEach((node, i) => {
    const at = el.childNodes[i]
    if (at !== node) el.insertBefore(node, at ?? null)
  })
  while (el.childNodes.length > nodes.length) el.lastChild!.remove()
}

/** Sets an attribute only when it changes (undefined removes it). */
export const setAttribute = (el: Element, name: string, value: string | undefined) => {
  if (value === undefined) el.removeAttribute(name)
  else if (el.getAttribute(name) !== value) el.setAttribute(name, value)
}

/**
 * Redraws `el` with what `draw` builds. A text field that had focus and comes back in the new tree
 * (a view keeps the element being edited) gets its focus and selection back, so a live event
 * arriving mid-typing neither steals the caret nor turns "replace the selection" into "append".
 * The focus is read before drawing: moving the field into the new tree already blurs it.
 */
export const redraw = (el: Element, draw: () => Child | Array<Child>) => {
  const field = document.activeElement
  const editing = field instanceof HTMLInputElement && el.contains(field) ? field : undefined
  const [start, end] = [editing?.selectionStart ?? null, editing?.selectionEnd ?? null]
  replaceChildren(el, draw())
  if (editing?.isConnected && document.activeElement !== editing) {
    editing.focus()
    if (start !== null && end !== null) editing.setSelectionRange(start, end)
  }
}

export const ago = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`
}

/**
 * Marks a table to become stacked rows in a narrow main column (styles.css): each cell gets its
 * column's heading as `data-label`, shown beside the value once the heading row is hidden.
 */
export const stackable = (table: HTMLTableElement): HTMLElement => {
  const labels = [...table.querySelectorAll("thead th")].map((th) => th.textContent ?? "")
  table.classList.add("stack")
  for (const row of table.querySelectorAll("tbody tr"))
    [...row.children].forEach((cell, i) => cell.setAttribute("data-label", labels[i] ?? ""))
  // Between stacked and roomy, a table too wide still scrolls inside its box, never the page.
  return h("div", { className: "table-scroll" }, table)
}

/** A time of day for today's entries; older ones carry their date too (and the year, if not this one). */
export const when = (ts: number, now = new Date()): string => {
  const d = new Date(ts)
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString()
  const date = d.toLocaleDateString(undefined, {
    month: "short",
    day: "numeric",
    ...(d.getFullYear() === now.getFullYear() ? {} : { year: "numeric" })
  })
  return `${date}, ${d.toLocaleTimeString()}`
}

/** Text with `commands` in backticks shown as code (as text nodes and <code> elements, never HTML). */
export const withCode = (text: string): Array<Node | string> =>
  text.split(/`([^`]+)`/).map((part, i) => (i % 2 === 1 ? h("code", {}, part) : part))
