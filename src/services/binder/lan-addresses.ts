/**
 * For a wildcard bind ("lan", or "auto" that fell back to it): the addresses another machine
 * should use, since "0.0.0.0" is no address a laptop can connect to.
 */
import * as net from "node:net"
import * as os from "node:os"
import { isTailscaleAddress, type InterfaceLister } from "./Binder.js"

/** Non-loopback, non-link-local addresses of this machine: IPv4 first, Tailscale's last. */
export const lanAddresses = (interfaces: InterfaceLister = os.networkInterfaces): Array<string> => {
  const all = Object.values(interfaces())
    .flatMap((infos) => infos ?? [])
    .filter((i) => !i.internal && !/^169\.254\./.test(i.address) && !/^fe80:/i.test(i.address))
    .map((i) => i.address)
  const unique = [...new Set(all)]
  const rank = (a: string) => (isTailscaleAddress(a) ? 2 : 0) + (net.isIPv6(a) ? 1 : 0)
  return unique.sort((a, b) => rank(a) - rank(b))
}

/** The start-up lines: one per address, with the WebSocket and Control UI URLs. */
export const lanLines = (
  port: number,
  options: { readonly tls: boolean; readonly controlUiPath?: string },
  interfaces: InterfaceLister = os.networkInterfaces
): Array<string> => {
  const addresses = lanAddresses(interfaces)
  if (addresses.length === 0) return ["  From LAN:   no network address on this machine yet (only loopback)"]
  return addresses.map((a, i) => {
    const host = net.isIPv6(a) ? `[${a}]` : a
    const ui =
      options.controlUiPath === undefined
        ? ""
        : `  (Control UI ${options.tls ? "https" : "http"}://${host}:${port}${options.controlUiPath}/)`
    return `  ${i === 0 ? "From LAN:  " : "           "} ${options.tls ? "wss" : "ws"}://${host}:${port}${ui}${isTailscaleAddress(a) ? " via Tailscale" : ""}`
  })
}
