// Connects to a Gateway on 127.0.0.1 with forwarded headers of its choosing, as any local process
// could (security tests; run it as another user to be a peer Serve is not):
//   node forwarded-connect.mjs <port> '<json: [{headers: {...}, auth: {...}}, ...]>'
// One attempt after another, each on a fresh raw WebSocket (no dependencies, so it runs from any
// directory as any user); prints each connect answer's JSON on a line of its own.
import { randomBytes } from "node:crypto"
import * as net from "node:net"

const port = Number(process.argv[2])
const attempts = JSON.parse(process.argv[3])

/** One masked client text frame. */
const frame = (text) => {
  const payload = Buffer.from(text)
  const mask = randomBytes(4)
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))
  const head =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff])
  return Buffer.concat([head, mask, masked])
}

/** Unmasked server text frames in `data` after the HTTP head, as strings. */
const textFrames = (data) => {
  const out = []
  let at = 0
  while (at + 2 <= data.length) {
    let len = data[at + 1] & 0x7f
    let off = at + 2
    if (len === 126) {
      len = data.readUInt16BE(off)
      off += 2
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(off))
      off += 8
    }
    if (off + len > data.length) break
    if ((data[at] & 0x0f) === 0x1) out.push(data.subarray(off, off + len).toString("utf8"))
    at = off + len
  }
  return out
}

const attempt = ({ headers, auth }) =>
  new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port })
    let buf = Buffer.alloc(0)
    let head = -1
    let sent = false
    const timer = setTimeout(() => done({ timeout: true }), 10_000)
    const done = (answer) => {
      clearTimeout(timer)
      s.destroy()
      resolve(answer)
    }
    s.on("error", (e) => done({ error: e.message }))
    s.on("connect", () => {
      const extra = Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("")
      s.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n${extra}\r\n`
      )
    })
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d])
      if (head < 0) {
        head = buf.indexOf("\r\n\r\n")
        if (head < 0) return
        if (!buf.subarray(0, 12).toString().includes("101")) return done({ http: buf.toString("latin1") })
        buf = buf.subarray(head + 4)
      }
      for (const text of textFrames(buf)) {
        const f = JSON.parse(text)
        if (f.type === "event" && f.event === "connect.challenge" && !sent) {
          sent = true
          const params = {
            minProtocol: 4,
            maxProtocol: 4,
            client: { id: "test", version: "1.0.0", platform: "linux", mode: "test" },
            role: "operator",
            scopes: ["operator.read"],
            ...(auth === undefined ? {} : { auth })
          }
          s.write(frame(JSON.stringify({ type: "req", id: "c1", method: "connect", params })))
        }
        if (f.type === "res" && f.id === "c1") return done(f)
      }
    })
  })

for (const a of attempts) console.log(JSON.stringify(await attempt(a)))
