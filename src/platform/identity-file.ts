/**
 * Where a node host keeps its device identity (<stateDir>/identity/device.json), and the one thing
 * the Gateway reads of it: the public key, to recognise its own machine's node host (pairing).
 */
import * as path from "node:path"
import { Either, Schema } from "effect"
import { readPrivateText } from "./private-file.js"
import { decodeStateText } from "./state-json.js"

export const identityDir = (stateDir: string) => path.join(stateDir, "identity")
export const identityFile = (stateDir: string) => path.join(identityDir(stateDir), "device.json")

/** All the Gateway reads of device.json. */
const PublicKeyJson = Schema.Struct({ publicKey: Schema.String })

/**
 * The public key of this state dir's identity, or undefined when there is none or it cannot be
 * read (the Gateway then treats its own node host like any other: pairing says what is wrong).
 */
export const readIdentityPublicKey = (stateDir: string): string | undefined => {
  try {
    const text = readPrivateText(identityFile(stateDir))
    const value = text === undefined ? undefined : Either.getOrUndefined(decodeStateText(PublicKeyJson, text))
    return value?.publicKey
  } catch {
    return undefined
  }
}
