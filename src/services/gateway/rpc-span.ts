/**
 * A span per RPC call through Effect's Tracer: `openclaw.rpc <method>` with the method, the scope
 * (or role) it requires and its outcome ("ok", the error code it answered, "interrupted" or
 * "defect"). Only when an app installed a Tracer of its own (Layer.setTracer, an OpenTelemetry
 * layer): with Effect's default tracer nobody reads the spans, so the hot path skips them.
 */
import { Cause, Effect, Exit, type Tracer } from "effect"
import { RpcError } from "./rpc.js"

/** Effect's own tracer, as a fresh runtime has it: installed, it means nobody collects spans. */
const defaultTracer: Tracer.Tracer = Effect.runSync(Effect.tracer)

/** Whether calls on a runtime with this tracer get spans. Read once, when the Gateway starts. */
export const tracesCalls = (tracer: Tracer.Tracer): boolean => tracer !== defaultTracer

export const RPC_SPAN_PREFIX = "openclaw.rpc "

/** What a call ended with, as the span's `openclaw.rpc.outcome`. */
export const outcomeOf = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some" && failure.value instanceof RpcError) return failure.value.shape.code
  return Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect"
}

/** `effect` (a method's handler, or its sync function lifted) inside the call's span. */
export const withRpcSpan = <A, E>(method: string, requires: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  effect.pipe(
    Effect.onExit((exit) => Effect.annotateCurrentSpan("openclaw.rpc.outcome", outcomeOf(exit))),
    Effect.withSpan(`${RPC_SPAN_PREFIX}${method}`, {
      kind: "server",
      attributes: { "openclaw.rpc.method": method, "openclaw.rpc.scope": requires }
    })
  )
