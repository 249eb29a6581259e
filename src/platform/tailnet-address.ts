/** Tailscale addresses on this machine's interfaces (the server binds one, the client dials one). */
import * as net from "node:net"
import type * as os from "node:os"

export type InterfaceLister = () => NodeJS.Dict<Array<os.NetworkInterfaceInfo>>

/** Tailscale's ranges: 100.64.0.0/10 (CGNAT) and fd7a:115c:a1e0::/48. */
export const isTailscaleAddress = (address: string): boolean => {
  if (net.isIPv4(address)) {
    const [a, b] = address.split(".").map(Number)
    return a === 100 && b! >= 64 && b! <= 127
  }
  return address.toLowerCase().startsWith("fd7a:115c:a1e0:")
}

export const findTailnetAddress = (list: InterfaceLister): string | undefined => {
  const all = Object.values(list()).flatMap((infos) => infos ?? [])
  const candidates = all.filter((i) => !i.internal && isTailscaleAddress(i.address))
  return (candidates.find((i) => i.family === "IPv4") ?? candidates[0])?.address
}
