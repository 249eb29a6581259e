/** The connect request's params, decoded with Schema (once per connection, so cost is irrelevant). */
import { Option, type ParseResult, Schema, SchemaAST } from "effect"
import { ClientModes, type ConnectParams } from "../../protocol/frames.js"

const Client = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1)),
  version: Schema.String,
  platform: Schema.String,
  mode: Schema.Literal(...ClientModes),
  displayName: Schema.optional(Schema.String),
  deviceFamily: Schema.optional(Schema.String),
  instanceId: Schema.optional(Schema.String)
})

const ConnectParamsSchema = Schema.Struct({
  minProtocol: Schema.Int,
  maxProtocol: Schema.Int,
  client: Client,
  // Role is checked separately so that a wrong role gets its own "invalid role" answer.
  role: Schema.optional(Schema.String),
  scopes: Schema.optional(Schema.Array(Schema.String)),
  caps: Schema.optional(Schema.Array(Schema.String)),
  commands: Schema.optional(Schema.Array(Schema.String)),
  auth: Schema.optional(
    Schema.Struct({
      token: Schema.optional(Schema.String),
      password: Schema.optional(Schema.String),
      deviceToken: Schema.optional(Schema.String)
    })
  ),
  device: Schema.optional(
    Schema.Struct({
      id: Schema.String,
      publicKey: Schema.String,
      signature: Schema.String,
      signedAt: Schema.Number,
      nonce: Schema.String
    })
  )
})

// Unknown params (locale, userAgent, permissions, ...) are accepted and ignored, as real clients send them.
const decode = Schema.decodeUnknownEither(ConnectParamsSchema, { errors: "first", onExcessProperty: "ignore" })

export const decodeConnectParams = (
  params: unknown
): { ok: true; params: ConnectParams & { role?: string } } | { ok: false; problem: string } => {
  const result = decode(params)
  if (result._tag === "Right") return { ok: true, params: result.right as ConnectParams & { role?: string } }
  const { path, message } = firstProblem(result.left.issue, [])
  return { ok: false, problem: `${path.length > 0 ? `${path.join(".")}: ` : ""}${message}` }
}

/**
 * The first problem as "path: what was expected, what kind of value came". Effect's own
 * formatters print the offending value, which is the client's and may be huge or nested deep
 * enough to overflow the stack while being printed (shared/security.md section 8).
 */
const firstProblem = (
  issue: ParseResult.ParseIssue,
  path: Array<PropertyKey>
): { path: Array<PropertyKey>; message: string } => {
  switch (issue._tag) {
    case "Pointer":
      return firstProblem(issue.issue, [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path])])
    case "Composite": {
      const issues: ReadonlyArray<ParseResult.ParseIssue> = Array.isArray(issue.issues)
        ? issue.issues
        : [issue.issues as ParseResult.ParseIssue]
      // An optional field is a union with undefined: its problem is the other member's.
      const members =
        issue.ast._tag === "Union"
          ? issues.filter((i) => !(i._tag === "Type" && i.ast._tag === "UndefinedKeyword"))
          : issues
      const inner = issue.ast._tag !== "Union" || members.length === 1 ? members[0] : undefined
      return inner === undefined
        ? { path, message: `expected ${expected(issue.ast)}, got ${kindOf(issue.actual)}` }
        : firstProblem(inner, path)
    }
    case "Refinement":
      return issue.kind === "From"
        ? firstProblem(issue.issue, path)
        : { path, message: `expected ${expected(issue.ast)}, got ${kindOf(issue.actual)}` }
    case "Transformation":
      return firstProblem(issue.issue, path)
    case "Missing":
      return { path, message: "is missing" }
    case "Unexpected":
    case "Forbidden":
      return { path, message: "is not allowed" }
    case "Type":
      return { path, message: `expected ${expected(issue.ast)}, got ${kindOf(issue.actual)}` }
  }
}

const expected = (ast: SchemaAST.AST): string => {
  switch (ast._tag) {
    case "TypeLiteral":
      return "an object"
    case "TupleType":
      return "an array"
    case "Literal":
      return JSON.stringify(ast.literal)
    case "Union":
      return `one of ${ast.types
        .filter((t) => t._tag !== "UndefinedKeyword")
        .map((t) => (t._tag === "Literal" ? String(t.literal) : expected(t)))
        .join(", ")}`
    default:
      return Option.getOrElse(SchemaAST.getDescriptionAnnotation(ast), () => String(ast))
  }
}

/** What kind of value came, never the value itself. */
const kindOf = (u: unknown): string =>
  u === null
    ? "null"
    : Array.isArray(u)
      ? "an array"
      : typeof u === "object"
        ? "an object"
        : u === undefined
          ? "nothing"
          : `a ${typeof u}`
