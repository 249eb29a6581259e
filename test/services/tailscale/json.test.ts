import { describe, expect, it } from "vitest"
import { Either } from "effect"
import { parseServeStatus, parseStatus } from "../../../src/services/tailscale/TailscaleCli.js"
import { decodeTailscaleJson, ServeStatusJson, StatusJson } from "../../../src/services/tailscale/json.js"

describe("tailscale --json output, decoded with Schema", () => {
  it("accepts what tailscale prints, including null for empty lists, and ignores fields it does not read", () => {
    const json = {
      BackendState: "Running",
      CertDomains: null,
      Version: "1.80.0",
      Self: { DNSName: "gw.tail1.ts.net.", TailscaleIPs: ["100.64.0.7", "fd7a::7"], CapMap: null, Online: true }
    }
    const decoded = decodeTailscaleJson(StatusJson, json)
    expect(Either.isRight(decoded)).toBe(true)
    expect(parseStatus(Either.getOrThrow(decoded))).toEqual({
      backendState: "Running",
      dnsName: "gw.tail1.ts.net",
      tailscaleIps: ["100.64.0.7", "fd7a::7"],
      certDomains: [],
      funnelAllowed: false
    })
  })

  it("a field of the wrong type is an error naming the field, not a guess", () => {
    expect(decodeTailscaleJson(StatusJson, { Self: { TailscaleIPs: "100.64.0.7" } })).toEqual(
      Either.left(expect.stringContaining("Self.TailscaleIPs"))
    )
    expect(decodeTailscaleJson(ServeStatusJson, { AllowFunnel: { "gw:443": "yes" } })).toEqual(
      Either.left(expect.stringContaining("AllowFunnel.gw:443"))
    )
  })

  it("serve status: web routes with their funnel flag, and raw TCP forwards", () => {
    const json = {
      Web: { "gw.ts.net:443": { Handlers: { "/": { Proxy: "http://127.0.0.1:18789" } } } },
      AllowFunnel: { "gw.ts.net:443": true },
      TCP: { "8443": { TCPForward: "127.0.0.1:9" } }
    }
    expect(parseServeStatus(Either.getOrThrow(decodeTailscaleJson(ServeStatusJson, json)))).toEqual({
      routes: [{ host: "gw.ts.net", httpsPort: 443, path: "/", target: "http://127.0.0.1:18789", funnel: true }],
      tcpForwards: [{ port: 8443, target: "tcp 127.0.0.1:9" }]
    })
  })
})
