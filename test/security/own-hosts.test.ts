import { describe, expect, it } from "vitest"
import { hostnameOf, hostRefusal, OwnHosts } from "../../src/services/gateway/own-hosts.js"

describe("OwnHosts: the DNS-rebinding guard's names", () => {
  it("parses Host headers: port, brackets, case and a trailing dot", () => {
    expect(hostnameOf("LocalHost:18789")).toBe("localhost")
    expect(hostnameOf("[::1]:18789")).toBe("::1")
    expect(hostnameOf("gw.tail1234.ts.net.")).toBe("gw.tail1234.ts.net")
    expect(hostnameOf("")).toBeUndefined()
    expect(hostnameOf(undefined)).toBeUndefined()
  })

  it("loopback bind: loopback names and addresses only, plus allowedOrigins' hosts", () => {
    const own = new OwnHosts({
      bindHosts: ["127.0.0.1", "::1"],
      allowedOrigins: ["https://ui.example.com:8443", "not a url"]
    })
    for (const host of ["127.0.0.1:1", "127.8.9.10", "localhost", "app.localhost:3000", "[::1]:5", "UI.example.com"])
      expect(own.knows(host), host).toBe(true)
    for (const host of ["rebind.attacker.example:18789", "127.0.0.1.attacker.example", "0.0.0.0", "", undefined])
      expect(own.knows(host), String(host)).toBe(false)
    // Only a port may follow the name: a loopback address at the start of a longer name is not one.
    for (const host of [
      "[::1].evil.example",
      "[::1].evil.example:80",
      "[::1]x",
      "127.0.0.1:80.evil.example",
      "localhost:"
    ])
      expect(own.knows(host), host).toBe(false)
  })

  it("wildcard (LAN) bind: this machine's interface addresses and host name", () => {
    const own = new OwnHosts({
      bindHosts: ["0.0.0.0", "::"],
      allowedOrigins: [],
      interfaces: () => ({
        eth0: [{ address: "192.168.1.20", family: "IPv4" } as any, { address: "fe80::1", family: "IPv6" } as any]
      }),
      hostname: "studio.home"
    })
    for (const host of ["192.168.1.20:18789", "[fe80::1]:18789", "studio.home", "studio.local"])
      expect(own.knows(host), host).toBe(true)
    expect(own.knows("192.168.1.21")).toBe(false)
  })

  it("learns the MagicDNS name from Tailscale when a *.ts.net Host arrives, asking at most every 10 s", async () => {
    let asked = 0
    const own = new OwnHosts({
      bindHosts: ["127.0.0.1"],
      allowedOrigins: [],
      discover: async () => (asked++, ["gw.tail1234.ts.net", "100.101.102.103"])
    })
    expect(own.knows("gw.tail1234.ts.net")).toBe(false)
    expect(own.mayDiscover("evil.example")).toBe(false)
    expect(await own.discoverAndCheck("gw.tail1234.ts.net")).toBe(true)
    expect(own.knows("gw")).toBe(true)
    expect(await own.discoverAndCheck("other.tail9999.ts.net")).toBe(false)
    expect(asked).toBe(1)
  })

  it("the refusal names the setting and quotes the Host (one log line)", () => {
    const text = hostRefusal("evil.example\r\nX: y")
    expect(text).toContain("gateway.controlUi.allowedOrigins")
    expect(text).not.toContain("\n")
  })
})
