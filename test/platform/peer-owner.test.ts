/** tcpPeerOwner (platform/processes.ts): the owner of the other end of a real loopback connection, from /proc/net/tcp{,6}. */
import * as net from "node:net"
import { describe, expect, it } from "vitest"
import { endpointAddress, tcpPeerOwner } from "../../src/platform/processes.js"

/** The owner tcpPeerOwner reports for a connection from this process to itself over `host`. */
const ownerOverLoopback = (host: string, connectTo = host) =>
  new Promise<Awaited<ReturnType<typeof tcpPeerOwner>>>((resolve, reject) => {
    const server = net.createServer((s) => {
      void tcpPeerOwner(
        { address: s.remoteAddress!, port: s.remotePort! },
        { address: s.localAddress!, port: s.localPort! }
      )
        .then(resolve, reject)
        .finally(() => {
          s.destroy()
          client.destroy()
          server.close()
        })
    })
    server.on("error", reject)
    let client: net.Socket
    server.listen(0, host, () => {
      client = net.connect((server.address() as net.AddressInfo).port, connectTo)
      client.on("error", reject)
    })
  })

describe("endpointAddress: Node's address in /proc/net's form", () => {
  it("IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 as eight full groups", () => {
    expect(endpointAddress("127.0.0.1")).toBe("127.0.0.1")
    expect(endpointAddress("::ffff:127.0.0.1")).toBe("127.0.0.1")
    expect(endpointAddress("::1")).toBe("0000:0000:0000:0000:0000:0000:0000:0001")
    expect(endpointAddress("FE80::1:2")).toBe("fe80:0000:0000:0000:0000:0000:0001:0002")
  })
})

describe.skipIf(process.platform !== "linux")("tcpPeerOwner on a real loopback connection", () => {
  it("over 127.0.0.1, ::1 and a dual-stack listener: the peer socket's owner is this process's uid; an unknown pair is undefined", async () => {
    const uid = process.getuid!()
    expect(await ownerOverLoopback("127.0.0.1")).toBe(uid)
    expect(await ownerOverLoopback("::1")).toBe(uid)
    expect(await ownerOverLoopback("::", "127.0.0.1")).toBe(uid)
    expect(await tcpPeerOwner({ address: "127.0.0.1", port: 1 }, { address: "127.0.0.1", port: 2 })).toBeUndefined()
  })
})
