/** The SHA-256 fingerprint of a PEM certificate, uppercase colon hex (what pins and status show). */
import { X509Certificate } from "node:crypto"

export const certificateFingerprint = (pem: string | Buffer): string => new X509Certificate(pem).fingerprint256
