// A flood of idle TCP sockets from 127.0.0.1 (security tests): node flood.mjs <port> <count>.
// Keeps <count> sockets open, sends nothing, and reopens each one the Gateway closes, as an
// attacker would. Prints "open <n>" once <count> connections were made, then "stats <opened> <closed> <live>"
// every second. Raise `ulimit -n` before starting it for large counts.
import * as net from "node:net"

const port = Number(process.argv[2])
const count = Number(process.argv[3])
let opened = 0
let closed = 0
let live = 0
let announced = false

const open = () => {
  const s = net.connect({ host: "127.0.0.1", port })
  let connected = false
  s.on("connect", () => {
    connected = true
    opened++
    live++
    if (!announced && opened >= count) {
      announced = true
      console.log(`open ${opened}`)
    }
  })
  s.on("error", () => {})
  s.on("close", () => {
    if (connected) {
      closed++
      live--
    }
    // Reopen at once: the pool stays under pressure for as long as the flood runs.
    setImmediate(open)
  })
}

for (let i = 0; i < count; i++) open()
setInterval(() => console.log(`stats ${opened} ${closed} ${live}`), 1000)
