/**
 * Presence: who is connected, as `system-presence`, hello-ok snapshots and `presence` events list
 * them. Bounded to the newest PRESENCE_MAX connections (as OpenClaw does), serialised once per
 * connection, and announced coalesced: a burst of N connects costs a few broadcasts, not N
 * broadcasts of an N-entry list to N clients.
 */
import type { PresenceEntry } from "../../protocol/methods.js"
import type { Connection } from "./connection.js"

/** At most this many entries in presence lists (snapshot, events, system-presence), newest kept. */
export const PRESENCE_MAX = 200

const PRESENCE_COALESCE_MS = 250

export const presenceEntry = (c: Connection): PresenceEntry => ({
  connId: c.connId,
  client: {
    id: c.client!.id,
    version: c.client!.version,
    platform: c.client!.platform,
    mode: c.client!.mode,
    ...(c.client!.displayName === undefined ? {} : { displayName: c.client!.displayName })
  },
  role: c.role,
  scopes: c.scopes,
  host: c.peer.remoteAddress,
  since: c.since,
  authMethod: c.authMethod,
  ...(c.identity === undefined ? {} : { user: c.identity })
})

export class Presence {
  // Every hello-ok carries the presence list, so each connect costs O(list). Each listed entry is
  // serialised once (kept as a string per connection, not a Buffer: small Buffers are slices of
  // shared 8 KiB pool slabs, and one live slice keeps its whole slab), and a frame that carries the
  // list is written straight into one Buffer: a connect then costs one copy outside the JS heap
  // instead of a list of fresh objects and strings, whose garbage grew the heap with 1000 connected.
  private readonly entryJson = new WeakMap<Connection, string>()
  /** The listed connections, until presence changes; only their entries stay cached. */
  private list: Array<Connection> | undefined
  private timer: NodeJS.Timeout | undefined

  /**
   * `ready`: the authenticated connections in the order they joined (a Set iterates in insertion
   * order). `announce`: broadcasts a frame built for a sequence number.
   */
  constructor(
    private readonly ready: ReadonlySet<Connection>,
    private readonly announceFrame: (frameFor: (seq: number) => Buffer) => void
  ) {}

  /** The newest PRESENCE_MAX connections. */
  private listed(): Array<Connection> {
    // Skips the older ones while iterating, rather than copying all of `ready` on every connect.
    const skip = this.ready.size - PRESENCE_MAX
    const out: Array<Connection> = []
    let i = 0
    for (const c of this.ready) if (i++ >= skip) out.push(c)
    return out
  }

  entries(): Array<PresenceEntry> {
    return this.listed().map(presenceEntry)
  }

  private jsonOf(c: Connection): string {
    let json = this.entryJson.get(c)
    if (json === undefined) this.entryJson.set(c, (json = JSON.stringify(presenceEntry(c))))
    return json
  }

  /**
   * `head` + the presence list's items joined by commas + `tail`, as one Buffer. `joining`: a
   * connection about to be admitted, appended so that its own hello-ok lists it.
   */
  frame(
    head: string,
    tail: string,
    joining?: Connection,
    alloc: (length: number) => Buffer = Buffer.allocUnsafe
  ): Buffer {
    const items = (this.list ??= this.listed()).map((c) => this.jsonOf(c))
    const own = joining === undefined ? undefined : this.jsonOf(joining)
    const count = items.length + (own === undefined ? 0 : 1)
    let length =
      Buffer.byteLength(head) +
      Buffer.byteLength(tail) +
      Math.max(0, count - 1) +
      (own === undefined ? 0 : Buffer.byteLength(own))
    for (const item of items) length += Buffer.byteLength(item)
    const frame = alloc(length)
    let at = frame.write(head)
    for (let i = 0; i < count; i++) {
      if (i > 0) frame[at++] = 0x2c // ","
      at += frame.write(i < items.length ? items[i]! : own!, at)
    }
    frame.write(tail, at)
    return frame
  }

  /** A connection was added to `ready`. */
  joined(conn: Connection): void {
    // The newest joins the end of the list, the oldest listed one may drop off: kept up to date
    // here instead of rebuilt on every connect.
    if (this.list !== undefined) {
      this.list.push(conn)
      if (this.list.length > PRESENCE_MAX) this.entryJson.delete(this.list.shift()!)
    }
    this.announce()
  }

  /** A connection was removed from `ready`; `quiet` while shutting down. */
  left(quiet: boolean): void {
    this.list = undefined
    if (!quiet) this.announce()
  }

  private announce(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.announceFrame((n) =>
        this.frame(`{"type":"event","event":"presence","seq":${n},"payload":{"presence":[`, "]}}")
      )
    }, PRESENCE_COALESCE_MS)
  }

  stop(): void {
    clearTimeout(this.timer)
  }
}
