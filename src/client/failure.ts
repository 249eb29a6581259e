/** How a client connection or call fails (shared by the RPC client and the TLS pin). */
import { forTerminal, shortened } from "../protocol/client-text.js"
import type { ErrorShape } from "../protocol/frames.js"

export type ClientFailureKind = "unreachable" | "auth" | "pairing" | "protocol" | "timeout" | "closed" | "tls"

/**
 * Why a connection or call failed; `code` is the server's details.code when it gave one. The
 * message often quotes the server (a refusal, a close reason, a method error): it is kept to one
 * line of visible characters here, so every place that shows it (CLI, doctor, node host log) is safe.
 */
export class ClientFailure extends Error {
  constructor(
    readonly kind: ClientFailureKind,
    message: string,
    readonly code?: string,
    readonly error?: ErrorShape
  ) {
    super(forTerminal(shortened(message, 1_000)))
  }
}
