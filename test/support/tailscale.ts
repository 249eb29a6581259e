/** The fake `tailscale` CLI (test/support/fake-tailscale) and its state file, for tests. */
import * as fs from "node:fs"
import * as path from "node:path"

export const FAKE_TAILSCALE = path.resolve(__dirname, "fake-tailscale")
export const HOST = "gw.tail1234.ts.net"

export interface FakeState {
  fail?: null | "daemon-down" | "logged-out" | "permission-denied" | "funnel-not-allowed" | "https-disabled" | "hang"
  failOnly?: Array<string>
  dnsName?: string
  whois?: Record<string, { login?: string; name?: string; tags?: Array<string> }>
  serve?: any
  stderrExtra?: string
  calls?: Array<Array<string>>
  delayMs?: number
}

export interface FakeTailscale {
  readonly file: string
  /** A directory holding `tailscale` (a symlink to the fake), to put first on PATH. */
  readonly binDir: string
  readonly read: () => FakeState
  readonly update: (f: (s: FakeState) => void) => void
  /** Calls made so far, as command lines. */
  readonly calls: () => Array<string>
  /** PATH with the fake first, and the state file. */
  readonly env: Record<string, string>
  /** The route on :443, if any: its proxy target. */
  readonly route443: () => string | undefined
}

export const fakeTailscale = (
  dir: string,
  initial: FakeState = {},
  options: { onPath?: boolean } = {}
): FakeTailscale => {
  const file = path.join(dir, "fake-tailscale-state.json")
  const binDir = path.join(dir, "bin")
  fs.mkdirSync(binDir, { recursive: true })
  if (options.onPath !== false) fs.symlinkSync(FAKE_TAILSCALE, path.join(binDir, "tailscale"))
  fs.writeFileSync(file, JSON.stringify(initial))
  const read = (): FakeState => JSON.parse(fs.readFileSync(file, "utf8"))
  return {
    file,
    binDir,
    read,
    update: (f) => {
      const s = read()
      f(s)
      const tmp = `${file}.test.tmp`
      fs.writeFileSync(tmp, JSON.stringify(s))
      fs.renameSync(tmp, file)
    },
    calls: () => (read().calls ?? []).map((c) => c.join(" ")),
    env: { PATH: `${binDir}${path.delimiter}${process.env.PATH}`, FAKE_TAILSCALE_STATE: file },
    route443: () => read().serve?.Web?.[`${HOST}:443`]?.Handlers?.["/"]?.Proxy
  }
}

/** A foreign route, as another service on the machine would have made it. */
export const foreignRoute = (httpsPort: number, target: string) => ({
  TCP: { [String(httpsPort)]: { HTTPS: true } },
  Web: { [`${HOST}:${httpsPort}`]: { Handlers: { "/": { Proxy: target } } } }
})

/** Polls until `f` returns a truthy value, or throws after timeoutMs. */
export const eventually = async <T>(
  f: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = "condition"
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
