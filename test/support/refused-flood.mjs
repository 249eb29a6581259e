// A flood of refused connects from 127.0.0.1 (security tests): node refused-flood.mjs <port> <count>.
// Keeps <count> raw TCP sockets busy: each upgrades to a WebSocket by hand, sends a connect frame
// the Gateway refuses ({"params":{}}), reads everything and never answers the close frame nor
// closes its end, as an attacker pinning file descriptors would. Each socket the Gateway closes
// is reopened at once. Prints "refused" once the first close frame arrived, then
// "stats <opened> <closed> <live>" every second. Raise `ulimit -n` before starting it.
import { randomBytes } from "node:crypto"
import * as net from "node:net"

const port = Number(process.argv[2])
const count = Number(process.argv[3])
const CONNECT = Buffer.from(JSON.stringify({ type: "req", id: "1", method: "connect", params: {} }))

/** One masked text frame (clients must mask), payload under 126 bytes. */
const maskedFrame = (payload) => {
  const mask = randomBytes(4)
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked])
}

let opened = 0
let closed = 0
let live = 0
let announced = false

const open = () => {
  const s = net.connect({ host: "127.0.0.1", port })
  let connected = false
  let head = ""
  let upgraded = false
  s.on("connect", () => {
    connected = true
    opened++
    live++
    s.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n\r\n`
    )
  })
  s.on("data", (d) => {
    if (!upgraded) {
      head += d.toString("latin1")
      if (!head.includes("\r\n\r\n")) return
      upgraded = true
      s.write(maskedFrame(CONNECT))
    }
    // A close frame (opcode 8) somewhere in what follows: the Gateway refused us. Never answered.
    if (!announced && d.includes(0x88)) {
      announced = true
      console.log("refused")
    }
  })
  s.on("error", () => {})
  s.on("close", () => {
    if (connected) {
      closed++
      live--
    }
    setImmediate(open)
  })
}

for (let i = 0; i < count; i++) open()
setInterval(() => console.log(`stats ${opened} ${closed} ${live}`), 1000)
