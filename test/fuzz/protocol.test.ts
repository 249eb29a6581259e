/**
 * The protocol fuzzer (shared/security.md section 8): random and mutated frames against a real
 * `openclaw gateway run` process at each stage: before auth, as an operator calling every method
 * of methods.ts, and as a paired node answering invokes. After every run: the process is alive,
 * every frame it sent was well-formed (no "internal error" answers either), and a bystander client
 * connected from the start still gets a health answer; every few runs a new client gets in too.
 *
 * FUZZ_SECONDS (default 100, split between the stages), FUZZ_RUNS (a run count per stage instead)
 * and FUZZ_SEED (replay) control it; `npm run fuzz` runs it longer. The seed is printed first.
 */
import { randomUUID } from "node:crypto"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ClientModes, Limits, OperatorScopes } from "../../src/protocol/frames.js"
import { TOKEN } from "../support/gateway.js"
import { RAW_CONTROL } from "../support/hostile-gateway.js"
import { type LiveGateway, startLiveGateway } from "../support/live-gateway.js"
import { newIdentity, nodeConnect, signedDevice, type TestIdentity } from "../support/node.js"
import {
  deepFragment,
  type Fragment,
  type FrameBreakage,
  forwardedHeaders,
  frameBreakage,
  hostileFragment,
  hostileJson,
  hostileString,
  mutatedParams,
  type RawMessage,
  rawMessage,
  requestText
} from "./arbitraries.js"
import { fillPlaceholders, fuzzConfig, FuzzSocket, fuzzOperator, RecentInputs } from "./harness.js"
import { METHODS } from "./methods.js"

const { seconds, runs, seed } = fuzzConfig()
const STAGES = { preAuth: 0.25, operator: 0.45, node: 0.3 }
/** How long a request may go unanswered before the fuzzer calls it a hang. */
const ANSWER_MS = 10_000
const NODE_COMMANDS = ["echo", "browser.proxy", "fuzz"]
/** The node stage's invoke timeout: an answer with a wrong id is a TIMEOUT after this long. */
const INVOKE_MS = 150

const options = (stage: number, share: number): fc.Parameters<any> => ({
  seed: seed + stage,
  // Shrinking would replay inputs against a Gateway that may be gone: report the input as it came,
  // in a few lines (the message holds the last inputs, cut short), not the whole counterexample.
  endOnFailure: true,
  reporter: (details) => {
    if (!details.failed) return
    const why = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
    throw new Error(
      `fuzz stage ${stage} failed at run ${details.numRuns} (FUZZ_SEED=${seed}; this stage's fast-check seed ${details.seed}, path "${details.counterexamplePath}")\n${why}`
    )
  },
  ...(runs === undefined
    ? { numRuns: 1_000_000, plugins: [fc.interruptAfterTimeLimit(seconds * 1000 * share)] }
    : { numRuns: runs })
})
/** How often each kind of answer came (shows which paths a run reached). */
const answers = new Map<string, number>()
const count = (kind: string) => answers.set(kind, (answers.get(kind) ?? 0) + 1)

/** Runs fc.assert for one stage and prints how many runs it made. */
const runStage = async (
  name: string,
  stage: number,
  share: number,
  arbs: Array<fc.Arbitrary<any>>,
  body: (...args: Array<any>) => Promise<void>,
  counter: () => number
) => {
  const before = counter()
  const started = Date.now()
  // The run in flight when the time limit interrupts fc.assert is not awaited by it: its outcome
  // (a crash it caused, say) is checked here.
  let inFlight: Promise<void> = Promise.resolve()
  const property = fc.asyncProperty(...(arbs as [fc.Arbitrary<any>]), (...args: Array<any>) => {
    const t0 = Date.now()
    inFlight = body(...args).then(() => {
      if (process.env.FUZZ_VERBOSE) console.log(`[fuzz] ${name} run ${counter()}: ${Date.now() - t0} ms`)
    })
    return inFlight
  })
  answers.clear()
  await fc.assert(property, options(stage, share))
  await inFlight
  const top = [...answers].sort((a, b) => b[1] - a[1]).slice(0, process.env.FUZZ_VERBOSE ? 200 : 12)
  console.log(
    `[fuzz] ${name}: ${counter() - before} runs in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed + stage}); answers: ${top.map(([k, n]) => `${k} ${n}`).join(", ")}`
  )
}
const stageTimeout = (share: number) => (runs === undefined ? seconds * 1000 * share : runs * 2_000) + 60_000

/** A connect's params as a correct client (or a confused one) writes them; mutated by the fuzzer. */
const connectValid = fc.record(
  {
    minProtocol: fc.constantFrom(3, 4, 5),
    maxProtocol: fc.constantFrom(3, 4, 5),
    client: fc.record(
      {
        id: fc.oneof(fc.constant("cli"), hostileString),
        version: fc.constant("1.0.0"),
        platform: fc.constant("linux"),
        mode: fc.constantFrom(...ClientModes, "spaceship"),
        displayName: hostileString,
        instanceId: hostileString
      },
      { requiredKeys: ["id", "version", "platform", "mode"] }
    ),
    role: fc.constantFrom("operator", "node", "admin"),
    scopes: fc.array(fc.oneof(fc.constantFrom(...OperatorScopes), hostileString), { maxLength: 4 }),
    caps: fc.array(hostileString, { maxLength: 3 }),
    commands: fc.array(hostileString, { maxLength: 3 }),
    auth: fc.oneof(
      fc.constant({ token: TOKEN }),
      fc.constant({ password: TOKEN }),
      fc.record({ token: hostileString, deviceToken: hostileString }, { requiredKeys: [] }),
      // A one-time sign-in code (i19/i22), here without a signed identity: refused before it is looked at.
      fc.record({ signInCode: hostileString, token: hostileString }, { requiredKeys: ["signInCode"] })
    ),
    device: fc.record({
      id: hostileString,
      publicKey: hostileString,
      signature: hostileString,
      signedAt: fc.integer(),
      nonce: hostileString
    })
  },
  { requiredKeys: ["minProtocol", "maxProtocol", "client"] }
)

/**
 * A node's connect with a valid signature over hostile fields (signed at run time, over the
 * challenge); sometimes with the own node's device token, and sometimes switching its role to
 * operator (a device token signs in only as the role it was issued for).
 */
interface SignedNodeConnect {
  readonly node: {
    readonly identity: number
    readonly client: Record<string, string>
    readonly caps: Array<string>
    readonly commands: Array<string>
    readonly scopes: Array<string>
    readonly role: "node" | "operator"
    readonly auth: "token" | "deviceToken" | "both"
  }
}
const signedNodeConnect: fc.Arbitrary<SignedNodeConnect> = fc.record({
  node: fc.record({
    // 0: this machine's own node host (paired at once); 1-3: strangers (pairing requests).
    identity: fc.integer({ min: 0, max: 3 }),
    client: fc.record({
      id: fc.oneof(fc.constant("node-host"), hostileString),
      version: hostileString,
      platform: hostileString,
      mode: fc.constant("node"),
      displayName: hostileString,
      deviceFamily: hostileString
    }),
    caps: fc.array(hostileString, { maxLength: 4 }),
    commands: fc.array(fc.oneof(fc.constantFrom("browser.proxy", "system.run", "echo"), hostileString), {
      maxLength: 6
    }),
    scopes: fc.array(fc.oneof(fc.constantFrom(...OperatorScopes), hostileString), { maxLength: 2 }),
    role: fc.constantFrom("node", "node", "operator"),
    auth: fc.constantFrom("token", "deviceToken", "deviceToken", "both")
  })
})

/** The connect request text of a SignedNodeConnect, signed over this connection's challenge nonce. */
const signedNodeText = (m: SignedNodeConnect, identity: TestIdentity, nonce: string, deviceToken: string): string => {
  const { client, caps, commands, scopes, role } = m.node
  const signedAt = Date.now()
  const auth =
    m.node.auth === "token"
      ? { token: TOKEN }
      : m.node.auth === "deviceToken"
        ? { deviceToken }
        : { token: TOKEN, deviceToken }
  const device = signedDevice(identity, {
    deviceId: identity.deviceId,
    clientId: client.id!,
    clientMode: "node",
    role,
    scopes,
    signedAt,
    token: auth.token ?? deviceToken,
    nonce,
    platform: client.platform!,
    deviceFamily: client.deviceFamily
  })
  return JSON.stringify({
    type: "req",
    id: "c1",
    method: "connect",
    params: { minProtocol: 4, maxProtocol: 4, client, role, scopes, caps, commands, auth, device }
  })
}

/** A browser's signed connect exchanging a (hostile) one-time sign-in code, as the Control UI sends it. */
interface SignedCodeConnect {
  readonly code: { readonly identity: number; readonly role: string; readonly signInCode: string }
}
const signedCodeConnect: fc.Arbitrary<SignedCodeConnect> = fc.record({
  code: fc.record({
    identity: fc.integer({ min: 1, max: 3 }),
    role: fc.constantFrom("operator", "operator", "node"),
    signInCode: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{32}$/), hostileString)
  })
})

const signedCodeText = (m: SignedCodeConnect, identity: TestIdentity, nonce: string): string => {
  const signedAt = Date.now()
  const client = { id: "openclaw-control-ui", version: "1.0.0", platform: "web", mode: "ui" }
  const scopes = ["operator.read", "operator.admin"]
  const device = signedDevice(identity, {
    deviceId: identity.deviceId,
    clientId: client.id,
    clientMode: "ui",
    role: m.code.role,
    scopes,
    signedAt,
    token: undefined,
    nonce,
    platform: client.platform,
    deviceFamily: undefined
  })
  return JSON.stringify({
    type: "req",
    id: "c1",
    method: "connect",
    params: {
      minProtocol: 4,
      maxProtocol: 4,
      client,
      role: m.code.role,
      scopes,
      auth: { signInCode: m.code.signInCode },
      device
    }
  })
}

type PreAuthMessage = RawMessage | { readonly request: string } | SignedNodeConnect | SignedCodeConnect
const preAuthMessage: fc.Arbitrary<PreAuthMessage> = fc.oneof(
  { weight: 2, arbitrary: rawMessage },
  { weight: 1, arbitrary: signedNodeConnect },
  { weight: 1, arbitrary: signedCodeConnect },
  {
    weight: 5,
    arbitrary: fc
      .tuple(mutatedParams(connectValid), frameBreakage)
      .map(([p, b]) => ({ request: requestText("c1", "connect", p, b) }))
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...Object.keys(METHODS)), hostileFragment)
      .map(([m, p]) => ({ request: requestText("m1", m, p, { kind: "none" }) }))
  }
)

interface Call {
  readonly method: string
  readonly params: Fragment | undefined
  readonly breakage: FrameBreakage
}
const methodNames = Object.keys(METHODS)
/** A call of any method in the table (valid, mutated or arbitrary params), or of an unknown one. */
const call: fc.Arbitrary<Call> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom(...methodNames).chain((method) =>
      fc.record({
        method: fc.constant(method),
        params: fc.oneof({ weight: 3, arbitrary: mutatedParams(METHODS[method]!.valid) }, hostileFragment),
        breakage: frameBreakage
      })
    )
  },
  {
    weight: 1,
    arbitrary: fc.record({
      method: hostileString,
      params: fc.option(hostileFragment, { nil: undefined }),
      breakage: frameBreakage
    })
  }
)

/** How the fuzz node answers one node.invoke.request. */
interface NodeAnswer {
  readonly id: "right" | "wrong" | "missing" | "twice"
  readonly nodeId: "right" | "wrong" | "missing"
  readonly body: Fragment | undefined
  readonly breakage: FrameBreakage
}
const payloadJson = fc.oneof(hostileFragment, deepFragment, hostileString)
const nodeAnswer: fc.Arbitrary<NodeAnswer> = fc.record({
  id: fc.constantFrom("right", "right", "right", "wrong", "missing", "twice"),
  nodeId: fc.constantFrom("right", "right", "wrong", "missing"),
  body: mutatedParams(
    fc.record(
      {
        ok: fc.oneof({ weight: 4, arbitrary: fc.boolean() }, hostileJson),
        payload: hostileJson,
        payloadJSON: payloadJson,
        error: fc.oneof(fc.record({ code: hostileString, message: hostileString }), hostileJson)
      },
      { requiredKeys: ["ok"] }
    )
  ),
  breakage: frameBreakage
})

/** The id the Gateway answers a frame's text under (the last "id" key wins), or undefined when it cannot have one. */
const answeredId = (text: string): string | undefined => {
  try {
    const id = (JSON.parse(text) as { id?: unknown } | null)?.id
    return typeof id === "string" && id.length > 0 ? id : undefined
  } catch {
    return undefined
  }
}

/** `{fields..., rest of body}` when body is an object's text; anything else is sent as it is. */
const withFields = (body: Fragment | undefined, fields: ReadonlyArray<string>): Fragment | undefined => {
  if (body === undefined || !body.startsWith("{") || fields.length === 0) return body
  const rest = body.slice(1)
  return `{${fields.join(",")}${rest.startsWith("}") ? "" : ","}${rest}`
}

describe("protocol fuzzer against `openclaw gateway run`", () => {
  let gw: LiveGateway
  let bystander: FuzzSocket
  let operator: FuzzSocket | undefined
  let node: FuzzSocket | undefined
  /** How the node answers invokes; the operator stage's node echoes. */
  let answerWith: (request: {
    id: string
    nodeId: string
    command: string
    paramsJSON: string
  }) => ReadonlyArray<string> = (r) => [
    JSON.stringify({
      type: "req",
      id: `echo-${r.id}`,
      method: "node.invoke.result",
      params: {
        id: r.id,
        nodeId: r.nodeId,
        ok: true,
        payload: { command: r.command, paramsJSON: r.paramsJSON.slice(0, 1000) }
      }
    })
  ]
  const live = { nodeId: "", runId: "none", requestId: "none", invokeId: "none" }
  const recent = new RecentInputs()
  /** Node identities for signed connects: this machine's own, then three strangers. */
  const identities: Array<TestIdentity> = []
  /** The own node's current device token (each shared-token connect of it mints a new one). */
  let nodeDeviceToken = ""
  let runCount = 0
  /** How much of the Gateway's output has been checked for raw controls. */
  let logChecked = 0

  const outputTail = () =>
    gw.process
      .output()
      .split("\n")
      .slice(-40)
      .map((l) => (l.length > 300 ? `${l.slice(0, 300)}...` : l))
      .join("\n")
  const fail = (what: string): never => {
    throw new Error(
      `${what}\nseed ${seed} (replay: FUZZ_SEED=${seed})\nrecent inputs:\n${recent}\ngateway output (tail):\n${outputTail()}`
    )
  }
  const checkSocket = (s: FuzzSocket, who: string) => {
    if (s.problems.length > 0)
      fail(`${who} got ${s.problems.length} bad frame(s) or close(s): ${s.problems.slice(0, 3).join("\n")}`)
  }

  /** The process is alive, the bystander gets a health answer, and every 25th run a new client gets in. */
  const checkGateway = async () => {
    if (!gw.alive())
      fail(`the Gateway process exited (code ${gw.process.child.exitCode}, signal ${gw.process.child.signalCode})`)
    const id = `health-${++runCount}`
    bystander.send(JSON.stringify({ type: "req", id, method: "health" }))
    const res = await bystander.response(id, ANSWER_MS)
    if (res?.ok !== true) {
      await new Promise((r) => setTimeout(r, 200))
      if (!gw.alive())
        fail(`the Gateway process exited (code ${gw.process.child.exitCode}, signal ${gw.process.child.signalCode})`)
      fail(`the bystander got no health answer within ${ANSWER_MS} ms (${JSON.stringify(res)})`)
    }
    checkSocket(bystander, "the bystander")
    // What clients sent reaches the log only escaped: no raw ESC, C1 or bidi control (README Security).
    const log = gw.process.output()
    const raw = RAW_CONTROL.exec(log.slice(logChecked))
    logChecked = log.length
    if (raw !== null)
      fail(
        `the Gateway's log holds a raw U+${raw[0].charCodeAt(0).toString(16).padStart(4, "0")}: ${JSON.stringify(raw.input.slice(Math.max(0, raw.index - 60), raw.index + 20))}`
      )
    bystander.drain()
    if (runCount % 25 === 0) {
      const fresh = await fuzzOperator(gw.url).catch((e: Error) => fail(`a new client could not connect: ${e.message}`))
      fresh.close()
    }
  }

  /** Each stage starts with sockets of its own, so a failed stage's leftovers are not the next one's. */
  const freshSockets = async () => {
    operator?.close()
    operator = undefined
    bystander.close()
    bystander = await fuzzOperator(gw.url)
  }
  const ensureOperator = async () => {
    if (operator === undefined || !operator.open) operator = await fuzzOperator(gw.url)
    return operator
  }
  const ensureNode = async () => {
    if (node !== undefined && node.open) return node
    const { client, res } = await nodeConnect(gw.url, gw.nodeIdentity, {
      commands: NODE_COMMANDS,
      displayName: "fuzz-node"
    })
    if (!res.ok) fail(`the fuzz node could not connect: ${JSON.stringify(res.error)}`)
    if (typeof res.payload.auth.deviceToken === "string") nodeDeviceToken = res.payload.auth.deviceToken
    const s = FuzzSocket.adopt(client.ws)
    s.onFrame = (f) => {
      if (f.type !== "event" || f.event !== "node.invoke.request") return
      for (const text of answerWith(f.payload)) s.send(text)
    }
    node = s
    return s
  }

  /** Sends calls on `s` and requires an answer (or a close of the socket) to each within ANSWER_MS. */
  const sendCalls = async (s: FuzzSocket, calls: ReadonlyArray<Call>, who: string) => {
    const sent: Array<{ id: string | undefined; call: Call }> = []
    for (const c of calls) {
      const text = fillPlaceholders(
        requestText(`${who}-${runCount}-${sent.length}-${randomUUID().slice(0, 8)}`, c.method, c.params, c.breakage),
        live
      )
      recent.add(`${who} ${c.method}`, text)
      s.send(text)
      sent.push({ id: answeredId(text), call: c })
    }
    for (const { id, call: c } of sent) {
      // A frame broken so that it has no id is never answered: the socket must close instead.
      const slow = id !== undefined && METHODS[c.method]?.slow === true
      const res = await s.waitFor(
        () =>
          s.frames.find((f) => f.type === "res" && f.id === id) ??
          (s.closed === undefined ? undefined : ("closed" as const)),
        slow ? 300 : ANSWER_MS
      )
      if (res === undefined && !slow)
        fail(
          `${who}: no answer to ${c.method} (${id ?? "a frame without an id"}) within ${ANSWER_MS} ms and the socket is still open`
        )
      if (typeof res === "string") break
      if (res !== undefined)
        count(res.ok ? `${c.method} ok` : `${c.method} ${res.error?.details?.code ?? res.error?.code}`)
      const runId = res?.payload?.runId
      if (typeof runId === "string") live.runId = runId
    }
    checkSocket(s, who)
  }

  beforeAll(async () => {
    console.log(
      `[fuzz] seed ${seed}, ${runs === undefined ? `${seconds} s` : `${runs} runs per stage`} (replay: FUZZ_SEED=${seed} npx vitest run test/fuzz)`
    )
    // A high failed-auth limit: the fuzzer sends thousands of wrong tokens from 127.0.0.1, and the
    // local slow-down would only make it slower (the limiter has tests of its own).
    gw = await startLiveGateway([], { auth: { rateLimit: { maxAttempts: 1_000_000 } } })
    bystander = await fuzzOperator(gw.url)
    const n = await ensureNode()
    live.nodeId = gw.nodeIdentity.deviceId
    checkSocket(n, "the fuzz node")
    // Pending pairing requests, so approve/reject have something real to act on.
    identities.push(gw.nodeIdentity)
    for (let i = 0; i < 3; i++) {
      identities.push(newIdentity())
      const { res, client } = await nodeConnect(gw.url, identities[i + 1]!, { displayName: `stranger-${i}` })
      if (typeof res.error?.details?.requestId === "string") live.requestId = res.error.details.requestId
      client.ws.close()
    }
  }, 60_000)

  afterAll(async () => {
    if (gw === undefined) return
    bystander?.close()
    operator?.close()
    node?.close()
    const stopped = await gw.process.stop()
    expect(stopped.code).toBe(0)
    expect(gw.process.output()).not.toMatch(/failed unexpectedly|Unhandled|uncaught/i)
    await gw.stop()
  }, 30_000)

  it("the method table covers every method the Gateway registers", async () => {
    const s = await fuzzOperator(gw.url)
    const methods: Array<string> = s.frames.find((f) => f.id === "connect")!.payload.features.methods
    s.close()
    const missing = methods.filter((m) => METHODS[m] === undefined)
    expect(missing, `add these methods to test/fuzz/methods.ts: ${missing.join(", ")}`).toEqual([])
  })

  it(
    "before auth: raw bytes, malformed JSON, deep nesting, huge strings, wrong types in connect",
    async () => {
      await runStage(
        "before auth",
        0,
        STAGES.preAuth,
        [fc.array(preAuthMessage, { minLength: 1, maxLength: 3 }), forwardedHeaders],
        async (messages: Array<PreAuthMessage>, headers: Record<string, string> | null) => {
          if (headers !== null) recent.add("pre-auth upgrade headers", JSON.stringify(headers))
          const s = await FuzzSocket.open(gw.url, headers ?? {}).catch((e: Error) =>
            fail(`cannot open a socket: ${e.message}`)
          )
          try {
            const challenge = await s.waitFor(() => s.frames.find((f) => f.event === "connect.challenge"), ANSWER_MS)
            for (const m of messages) {
              if (!s.open) break
              const before = s.frames.length
              const nonce = String(challenge?.payload?.nonce)
              const signed =
                "node" in m
                  ? signedNodeText(m, identities[m.node.identity]!, nonce, nodeDeviceToken)
                  : "code" in m
                    ? signedCodeText(m, identities[m.code.identity]!, nonce)
                    : undefined
              // Signed connects were turned into text above; what is left is a request or raw bytes.
              const raw = m as Exclude<PreAuthMessage, SignedNodeConnect | SignedCodeConnect>
              const text =
                signed ??
                ("request" in raw
                  ? raw.request
                  : "text" in raw
                    ? raw.text
                    : `<${raw.binary ? "binary" : "text"} bytes ${Buffer.from(raw.bytes).toString("hex").slice(0, 200)}>`)
              recent.add("pre-auth", text)
              s.send(signed ?? ("request" in raw ? raw.request : "text" in raw ? raw.text : raw))
              // Every message is answered or closes the socket: nothing is left hanging.
              const reacted = await s.waitFor(
                () => (s.frames.length > before || s.closed !== undefined ? true : undefined),
                ANSWER_MS + 2_000
              )
              if (reacted === undefined) fail("a pre-auth message got neither an answer nor a close")
              // A shared-token connect of the own node minted it a new device token: the next role switch uses that.
              const minted = s.frames
                .slice(before)
                .find((f) => f.ok && typeof f.payload?.auth?.deviceToken === "string")
              if (minted !== undefined && "node" in m && m.node.identity === 0 && minted.payload.auth.role === "node")
                nodeDeviceToken = minted.payload.auth.deviceToken
            }
            for (const f of s.frames) {
              if (f.type !== "res") continue
              count(f.ok ? `ok ${f.payload?.auth?.role ?? ""}` : String(f.error?.details?.code ?? f.error?.code))
              const auth = f.ok ? f.payload?.auth : undefined
              // The only device token in play is the own node's: it signs in as that node, never with a scope.
              if (auth?.method === "device-token" && (auth.role !== "node" || auth.scopes?.length !== 0))
                fail(`the node's device token signed in as ${JSON.stringify({ ...auth, deviceToken: undefined })}`)
            }
            checkSocket(s, "the pre-auth client")
          } finally {
            s.close()
          }
          await checkGateway()
        },
        () => runCount
      )
    },
    stageTimeout(STAGES.preAuth)
  )

  /**
   * One call pipelined past the in-flight limit (Limits.maxRequestsInFlight): every copy is answered,
   * the extra ones TOO_MANY_REQUESTS_IN_FLIGHT. Not a slow method, whose copies would stay in flight.
   */
  const pipelineBurst = {
    weight: 1,
    arbitrary: fc
      .tuple(
        call.filter((c) => METHODS[c.method]?.slow !== true),
        fc.integer({ min: Limits.maxRequestsInFlight + 1, max: Limits.maxRequestsInFlight + 16 })
      )
      .map(([c, n]) => Array<Call>(n).fill(c))
  }

  it(
    "as an operator: every method with valid, mutated and arbitrary params",
    async (ctx) => {
      // A stage before ended the process: that failure is the report, not this.
      if (!gw.alive()) ctx.skip()
      await freshSockets()
      await runStage(
        "as an operator",
        1,
        STAGES.operator,
        [fc.oneof({ weight: 9, arbitrary: fc.array(call, { minLength: 1, maxLength: 4 }) }, pipelineBurst)],
        async (calls: Array<Call>) => {
          await ensureNode()
          const s = await ensureOperator()
          await sendCalls(s, calls, "operator")
          s.drain()
          await checkGateway()
        },
        () => runCount
      )
    },
    stageTimeout(STAGES.operator)
  )

  it(
    "as a paired node: answers to invokes (wrong ids, odd payloads, deep payloadJSON) and other frames",
    async (ctx) => {
      // A stage before ended the process: that failure is the report, not this.
      if (!gw.alive()) ctx.skip()
      await freshSockets()
      let answer: NodeAnswer | undefined
      answerWith = (r) => {
        live.invokeId = r.id
        const a = answer
        if (a === undefined) return []
        const fields = [
          ...(a.id === "missing" ? [] : [`"id":${JSON.stringify(a.id === "wrong" ? randomUUID() : r.id)}`]),
          ...(a.nodeId === "missing"
            ? []
            : [`"nodeId":${JSON.stringify(a.nodeId === "wrong" ? "not-this-node" : r.nodeId)}`])
        ]
        const text = requestText(`answer-${r.id}`, "node.invoke.result", withFields(a.body, fields), a.breakage)
        recent.add("node answer", text)
        return a.id === "twice" ? [text, text] : [text]
      }
      await runStage(
        "as a paired node",
        2,
        STAGES.node,
        [nodeAnswer, fc.boolean(), hostileJson, fc.array(call, { maxLength: 2 })],
        async (a: NodeAnswer, viaBrowser: boolean, args: unknown, extra: Array<Call>) => {
          answer = a
          const n = await ensureNode()
          const s = await ensureOperator()
          const params = viaBrowser
            ? { method: "POST", path: "/snapshot", body: args, timeoutMs: INVOKE_MS }
            : { nodeId: live.nodeId, command: "fuzz", params: args, idempotencyKey: randomUUID(), timeoutMs: INVOKE_MS }
          await sendCalls(
            s,
            [
              {
                method: viaBrowser ? "browser.request" : "node.invoke",
                params: JSON.stringify(params),
                breakage: { kind: "none" }
              }
            ],
            "operator"
          )
          // The node's own calls: node methods, operator methods it may not call, unknown ones.
          await sendCalls(n, extra, "node")
          // The node's answers to its node.invoke.result requests are checked frame by frame.
          await n.waitFor(
            () =>
              n.closed !== undefined || n.frames.some((f) => f.type === "res" && String(f.id).startsWith("answer-"))
                ? true
                : undefined,
            200
          )
          checkSocket(n, "the fuzz node")
          n.drain()
          s.drain()
          await checkGateway()
        },
        () => runCount
      )
    },
    stageTimeout(STAGES.node)
  )
})
