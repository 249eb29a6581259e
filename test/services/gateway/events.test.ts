/**
 * What the core offers features about connections (api.ts): join/leave events as Streams of plain
 * data, and plain operations on one connection (send, ping, close), never the socket itself.
 */
import { Chunk, Effect, Exit, Layer, Option, Scope, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { Auth } from "../../../src/services/auth/Auth.js"
import { Binder } from "../../../src/services/binder/Binder.js"
import { GatewayConfig } from "../../../src/services/config/GatewayConfig.js"
import { DeviceAdmission, Gateway } from "../../../src/services/gateway/api.js"
import { authenticated, RawClient, settingsWith, TOKEN, withGateway } from "../../support/gateway.js"
import { newIdentity, nodeConnect } from "../../support/node.js"

/** The core alone, with an admission that lets every signed node in (the hook overrides its default). */
const coreWithNodes = () =>
  Gateway.layer.pipe(
    Layer.provide(
      Layer.succeed(DeviceAdmission, {
        forGateway: () => ({
          checkDeviceToken: () => Effect.succeed({ ok: false }),
          admitNode: () => Effect.succeed({})
        })
      })
    ),
    Layer.provideMerge(Layer.mergeAll(Auth.layer, Binder.layer)),
    Layer.provideMerge(Layer.succeed(GatewayConfig, settingsWith()))
  )

/** Subscribes now (in `scope`); collects the next `n` events in the background. */
const collect = <A>(subscribe: Effect.Effect<Stream.Stream<A>, never, Scope.Scope>, scope: Scope.Scope, n: number) => {
  const stream = Effect.runSync(Scope.extend(subscribe, scope))
  return Effect.runPromise(Effect.map(Stream.runCollect(Stream.take(stream, n)), Chunk.toArray))
}

describe("connection events and operations (api.ts)", { timeout: 30_000 }, () => {
  it("a client joining and leaving is heard as plain data (no socket); node events carry the node's id", async () => {
    const id = newIdentity()
    await withGateway(
      {},
      async (gw) => {
        const scope = Effect.runSync(Scope.make())
        const all = collect(gw.connectionEvents, scope, 4)
        const nodes = collect(gw.nodeEvents, scope, 2)
        const op = await authenticated(gw.url)
        const { client: node } = await nodeConnect(gw.url, id)
        op.ws.close()
        await op.waitClosed()
        node.ws.close()
        const heard = await all
        expect(heard.map((e) => `${e._tag} ${e.connection.role} ${e.connection.client.id}`)).toEqual([
          "Joined operator test",
          "Joined node node-host",
          "Left operator test",
          "Left node node-host"
        ])
        const joined = heard[1]!.connection
        // Plain data: it survives JSON as it is, and holds no socket.
        expect(JSON.parse(JSON.stringify(joined))).toEqual(joined)
        expect(joined).toMatchObject({ role: "node", device: { deviceId: id.deviceId }, remoteAddress: "127.0.0.1" })
        expect((await nodes).map((e) => `${e._tag} ${e.nodeId}`)).toEqual([
          `Joined ${id.deviceId}`,
          `Left ${id.deviceId}`
        ])
        Effect.runSync(Scope.close(scope, Exit.void))
      },
      coreWithNodes
    )
  })

  it("sends to, pings and closes one connection by its id", async () => {
    await withGateway({}, async (gw) => {
      // A client that stops answering pings (a laptop gone to sleep).
      const sleepy = await RawClient.open(gw.url, { autoPong: false })
      await sleepy.event("connect.challenge")
      expect((await sleepy.connect({ auth: { token: TOKEN } })).ok).toBe(true)
      const [info] = gw.connections()
      expect(gw.sendToConnection(info!.connId, "test.hello", { a: 1 })).toBe(true)
      expect((await sleepy.event("test.hello")).payload).toEqual({ a: 1 })
      expect(await Effect.runPromise(gw.ping("no-such-connection"))).toBe(false)
      expect(Option.isNone(await Effect.runPromise(Effect.timeoutOption(gw.ping(info!.connId), "300 millis")))).toBe(
        true
      )
      // An unanswered ping ends (false) when the connection is cut.
      const pinged = Effect.runPromise(gw.ping(info!.connId))
      gw.closeConnection(info!.connId, 4001, "bye", { cut: true })
      expect(await pinged).toBe(false)
      expect(gw.connections()).toEqual([])
      expect(gw.sendToConnection(info!.connId, "test.hello")).toBe(false)

      const awake = await authenticated(gw.url)
      const [other] = gw.connections()
      expect(await Effect.runPromise(gw.ping(other!.connId))).toBe(true)
      gw.closeConnection(other!.connId, 4002, "go away")
      expect(await awake.waitClosed()).toEqual({ code: 4002, reason: "go away" })
    })
  })
})
