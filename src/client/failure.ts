/** How a client connection or call fails (shared by the RPC client and the TLS pin). */
import type { ErrorShape } from "../protocol/frames.js"

export type ClientFailureKind = "unreachable" | "auth" | "pairing" | "protocol" | "timeout" | "closed" | "tls"

/** Why a connection or call failed; `code` is the server's details.code when it gave one. */
export class ClientFailure extends Error {
  constructor(
    readonly kind: ClientFailureKind,
    message: string,
    readonly code?: string,
    readonly error?: ErrorShape
  ) {
    super(message)
  }
}
