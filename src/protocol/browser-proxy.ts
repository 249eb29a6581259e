/** A file in a browser.proxy answer (`{result, files}`), as the node host sends it and the Gateway saves it. */
export interface ProxyFile {
  readonly path: string
  readonly base64: string
  readonly mimeType?: string
}
