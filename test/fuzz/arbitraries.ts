/**
 * What a hostile client sends, as fast-check arbitraries. Params and frames are produced as JSON
 * *text* (a "fragment"), so they can hold what JSON.stringify never writes: nesting thousands of
 * levels deep, duplicate or `__proto__` keys, truncated text, lone surrogate escapes.
 */
import fc from "fast-check"

/** JSON text of one value. */
export type Fragment = string

/** Any UTF-16 code units, lone surrogates included (fast-check's "binary" unit never makes those). */
const codeUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 24
})

export const oddStrings = [
  "",
  " ",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "\ud800",
  "\udc00x",
  "a\ud83d",
  "\ud83d\ude00",
  "\u0000",
  "\u001b[31mred",
  "line\nbreak\r\n[gateway] warning: forged",
  "kiosk\u009b2J\u202egpj.exe",
  "\u001b]52;c;ZXZpbA==\u0007\u001b]8;;https://evil/\u0007",
  "../../../etc/passwd",
  "%",
  "%E4%B8",
  "%00",
  ".",
  "..",
  "main",
  "\u2028\u2029",
  "\ufeff",
  "💥".repeat(40),
  "会".repeat(200),
  "node.invoke",
  "connect",
  "operator.admin",
  "null",
  "undefined",
  "NaN",
  "-0",
  "1e999"
]

/** Strings a hostile client sends: any code units, odd names, control characters, large ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: codeUnits },
  { weight: 3, arbitrary: fc.constantFrom(...oddStrings) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 70_000 }).map((n) => "x".repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 400 }).map((n) => "会".repeat(n)) }
)

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double({ noDefaultInfinity: true, noNaN: true }),
  fc.constantFrom(0, -1, 1, 0.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 53), 1e308, -1e308, 5e-324, 600_000, 86_400_000)
)

/** Any JSON value built from hostile strings (keys too) and odd numbers. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    hostileNumber,
    hostileString,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(hostileString, tie("value")), { maxLength: 4 }).map((entries) => Object.fromEntries(entries))
  )
})).value

/** Nesting around the decoder's limit (128) and far beyond it, of arrays, objects or both. */
export const deepFragment: fc.Arbitrary<Fragment> = fc
  .tuple(
    fc.oneof(fc.integer({ min: 120, max: 140 }), fc.integer({ min: 500, max: 30_000 })),
    fc.constantFrom("array", "object", "mixed")
  )
  .map(([depth, shape]) => {
    const open = shape === "array" ? "[" : shape === "object" ? '{"a":' : '[{"a":'
    const close = shape === "array" ? "]" : shape === "object" ? "}" : "}]"
    const levels = shape === "mixed" ? Math.ceil(depth / 2) : depth
    return `${open.repeat(levels)}1${close.repeat(levels)}`
  })

/** A fragment: mostly ordinary hostile JSON, sometimes deep, sometimes a near-limit string. */
export const hostileFragment: fc.Arbitrary<Fragment> = fc.oneof(
  { weight: 8, arbitrary: hostileJson.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: deepFragment },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"__proto__":{"polluted":true}}',
      '{"a":1,"a":2}',
      '"\\ud800"',
      '{"\\u005f_proto__":1}',
      "[]",
      "{}",
      '"\\u0000"'
    )
  }
)

/** An object written as text from [key, fragment] entries (duplicate and `__proto__` keys stay). */
export const objectText = (entries: ReadonlyArray<readonly [string, Fragment]>): Fragment =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`

/** What to do to a valid params object. */
type Mutation =
  | { readonly kind: "none" }
  | { readonly kind: "drop"; readonly at: number }
  | { readonly kind: "replace"; readonly at: number; readonly value: Fragment }
  | { readonly kind: "add"; readonly key: string; readonly value: Fragment }
  | { readonly kind: "whole"; readonly value: Fragment }
  | { readonly kind: "absent" }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 2, arbitrary: fc.nat().map((at) => ({ kind: "drop" as const, at })) },
  {
    weight: 5,
    arbitrary: fc.tuple(fc.nat(), hostileFragment).map(([at, value]) => ({ kind: "replace" as const, at, value }))
  },
  {
    weight: 2,
    arbitrary: fc.tuple(hostileString, hostileFragment).map(([key, value]) => ({ kind: "add" as const, key, value }))
  },
  { weight: 2, arbitrary: hostileFragment.map((value) => ({ kind: "whole" as const, value })) },
  { weight: 1, arbitrary: fc.constant({ kind: "absent" as const }) }
)

/** Params as text: a valid object, or one mutation of it. undefined: the frame has no params. */
export const mutatedParams = (valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Fragment | undefined> =>
  fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 2 })).map(([params, mutations]) => {
    const entries: Array<[string, Fragment]> = Object.entries(params).map(([k, v]) => [k, JSON.stringify(v)])
    for (const m of mutations) {
      const at = "at" in m && entries.length > 0 ? m.at % entries.length : -1
      switch (m.kind) {
        case "none":
          break
        case "drop":
          if (at >= 0) entries.splice(at, 1)
          break
        case "replace":
          if (at >= 0) entries[at] = [entries[at]![0], m.value]
          break
        case "add":
          entries.push([m.key, m.value])
          break
        case "whole":
          return m.value
        case "absent":
          return undefined
      }
    }
    return objectText(entries)
  })

/** A request frame as text, sometimes broken at the frame level (truncated, wrong field types, extra keys). */
export const requestText = (
  id: string,
  method: string,
  params: Fragment | undefined,
  breakage: FrameBreakage
): string => {
  const fields: Array<[string, Fragment]> = [
    ["type", '"req"'],
    ["id", JSON.stringify(id)],
    ["method", JSON.stringify(method)]
  ]
  if (params !== undefined) fields.push(["params", params])
  switch (breakage.kind) {
    case "none":
      return objectText(fields)
    case "truncate": {
      const text = objectText(fields)
      return text.slice(0, breakage.at % Math.max(1, text.length))
    }
    case "field":
      return objectText(fields.map(([k, v]) => (k === breakage.field ? [k, breakage.value] : [k, v])))
    case "extra":
      return objectText([...fields, [breakage.key, breakage.value]])
    case "garbage":
      return `${objectText(fields)}${breakage.tail}`
  }
}

export type FrameBreakage =
  | { readonly kind: "none" }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "field"; readonly field: "type" | "id" | "method"; readonly value: Fragment }
  | { readonly kind: "extra"; readonly key: string; readonly value: Fragment }
  | { readonly kind: "garbage"; readonly tail: string }

export const frameBreakage: fc.Arbitrary<FrameBreakage> = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: "truncate" as const, at })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom("type" as const, "id" as const, "method" as const), hostileFragment)
      .map(([field, value]) => ({ kind: "field" as const, field, value }))
  },
  {
    weight: 1,
    arbitrary: fc.tuple(hostileString, hostileFragment).map(([key, value]) => ({ kind: "extra" as const, key, value }))
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("}", "]", ",", " x", "\u0000", "{}").map((tail) => ({ kind: "garbage" as const, tail }))
  }
)

/** A WebSocket message that is not a request at all: raw bytes as text or binary, or other JSON. */
export type RawMessage = { readonly text: string } | { readonly bytes: Uint8Array; readonly binary: boolean }
export const rawMessage: fc.Arbitrary<RawMessage> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }).map((text) => ({ text })),
  hostileFragment.map((text) => ({ text })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ bytes, binary: false })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ bytes, binary: true })),
  fc
    .constantFrom(
      '{"type":"res","id":"x","ok":true}',
      '{"type":"event","event":"tick"}',
      '{"type":"req"}',
      '{"type":"req","id":"","method":"connect"}',
      "null",
      "[]",
      '"req"'
    )
    .map((text) => ({ text })),
  fc
    .integer({ min: 60 * 1024, max: 80 * 1024 })
    .map((n) => ({ text: `{"type":"req","id":"big","method":"connect","params":{"pad":"${"x".repeat(n)}"}}` }))
)

/** Header text Node's HTTP client sends: printable ASCII, or a MIME encoded word (Tailscale's form). */
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 }),
  fc
    .tuple(fc.constantFrom("q", "b", "Q", "x"), fc.string({ maxLength: 40 }))
    .map(
      ([enc, text]) =>
        `=?utf-8?${enc}?${enc.toLowerCase() === "b" ? Buffer.from(text).toString("base64") : encodeURIComponent(text).replace(/%/g, "=")}?=`
    ),
  fc.constantFrom("203.0.113.9", "127.0.0.1", "::1", "100.64.0.7, 10.0.0.1", "https", "alice@example.com", "")
)

/**
 * The headers a proxy adds (Tailscale Serve's among them), sent with the WebSocket upgrade by a
 * local process: the Gateway looks up who owns the peer before it believes any of them.
 */
export const forwardedHeaders: fc.Arbitrary<Record<string, string> | null> = fc.option(
  fc.dictionary(
    fc.constantFrom(
      "X-Forwarded-For",
      "X-Forwarded-Proto",
      "X-Forwarded-Host",
      "Forwarded",
      "X-Real-IP",
      "Tailscale-User-Login",
      "Tailscale-User-Name",
      "Tailscale-Funnel-Request"
    ),
    headerValue,
    { maxKeys: 4 }
  ),
  { freq: 2 }
)
