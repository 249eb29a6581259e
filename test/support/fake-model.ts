/** A fake OpenAI-compatible chat-completions endpoint that streams words slowly as SSE. */
import * as http from "node:http"
import type * as net from "node:net"

export interface FakeModel {
  readonly baseUrl: string
  /** The Authorization header of each request. */
  readonly authorizations: Array<string | undefined>
  readonly close: () => void
}

export const slowModel = async (words: ReadonlyArray<string>, delayMs: number): Promise<FakeModel> => {
  const authorizations: Array<string | undefined> = []
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization)
    req.resume()
    req.on("end", async () => {
      res.writeHead(200, { "content-type": "text/event-stream" })
      for (const word of words) {
        if (res.destroyed) return
        res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: word } }] })}\n\n`)
        await new Promise((r) => setTimeout(r, delayMs))
      }
      res.end("data: [DONE]\n\n")
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/v1`,
    authorizations,
    close: () => {
      server.closeAllConnections()
      server.close()
    }
  }
}
