/**
 * Client input checked with Schema (connect params, and each method's `params` schema): the first
 * problem found, told by its field path and what was expected. Effect's own formatters print the
 * offending value, which is the client's and may be huge or nested deep enough to overflow the
 * stack while being printed, and an error text must not reflect input (shared/security.md
 * section 8): these messages name the field and the kind of value that came, never the value.
 */
import { Either, Option, type ParseResult, Schema, SchemaAST } from "effect"
import { ErrorCode, type ErrorShape } from "../../protocol/frames.js"
import { ParamProblem, type ParamProblemAnnotation } from "../../protocol/params.js"

export interface Problem {
  readonly path: ReadonlyArray<PropertyKey>
  readonly kind: "missing" | "type" | "refinement" | "not-allowed"
  /** What was expected, from the schema. */
  readonly expected: string
  /** What kind of value came ("a number"), never the value itself. */
  readonly got: string
  /** A refinement's own words ("is longer than 200 characters"). */
  readonly message?: string
  readonly annotation?: ParamProblemAnnotation
}

/** The first problem of a failed decode (decode with `errors: "first"`). */
export const firstProblem = (
  issue: ParseResult.ParseIssue,
  path: Array<PropertyKey> = [],
  outer?: SchemaAST.AST,
  annotation?: ParamProblemAnnotation
): Problem => {
  // A missing field's ast is its property signature's: the field's own schema is its type.
  const ast = issue._tag === "Missing" ? issue.ast.type : "ast" in issue ? issue.ast : undefined
  const own = ast?.annotations[ParamProblem] as ParamProblemAnnotation | undefined
  const note = annotation ?? own
  const problem = (kind: Problem["kind"], ast: SchemaAST.AST, message?: string): Problem => ({
    path,
    kind,
    expected: expected(outer ?? ast),
    got: kindOf(issue.actual),
    ...(message === undefined ? {} : { message }),
    ...(note === undefined ? {} : { annotation: note })
  })
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
      return inner === undefined ? problem("type", issue.ast) : firstProblem(inner, path, undefined, note)
    }
    case "Refinement":
      // A value of the wrong type is told what the refinement expects ("a non-empty string"), not its base type.
      if (issue.kind === "From") return firstProblem(issue.issue, path, outer ?? issue.ast, note)
      return problem("refinement", issue.ast, issue.issue._tag === "Type" ? issue.issue.message : undefined)
    case "Transformation":
      return firstProblem(issue.issue, path, outer, note)
    case "Missing":
      return problem("missing", issue.ast.type)
    case "Unexpected":
    case "Forbidden":
      return { path, kind: "not-allowed", expected: "nothing", got: kindOf(issue.actual) }
    case "Type":
      return problem("type", issue.ast)
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

/** `params.a.b[0]`: the path names only keys of our schema (and indices), never a client's key. */
const fieldOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i === 0 ? "" : "."}${String(k)}`)).join("")

/** The INVALID_REQUEST answer for a method's params: `chat.send: params.sessionKey must be ...`. */
export const paramsError = (method: string, p: Problem): ErrorShape => {
  const field = fieldOf(p.path)
  const at = field.length === 0 ? "params" : `params${field.startsWith("[") ? "" : "."}${field}`
  const message =
    p.annotation !== undefined
      ? p.annotation.message(method)
      : p.kind === "missing"
        ? `${method} needs ${at} (${p.expected})`
        : p.kind === "not-allowed"
          ? `${method}: ${at} is not allowed`
          : p.message !== undefined
            ? `${method}: ${at} ${p.message}`
            : `${method}: ${at} must be ${p.expected}, got ${p.got}`
  return {
    code: ErrorCode.invalidRequest,
    message,
    details: { code: p.annotation?.code ?? "INVALID_PARAMS", ...(field.length === 0 ? {} : { field }) }
  }
}

const DECODE_OPTIONS = { errors: "first", onExcessProperty: "ignore" } as const
const EMPTY = Object.freeze({})

/**
 * A method's params decoder, compiled once. Missing params (or null) are `{}`, so a method whose
 * fields are all optional may be called without any. Extra fields are ignored: OpenClaw's clients send them.
 */
export const paramsDecoder = <A, I>(
  method: string,
  schema: Schema.Schema<A, I, never>
): ((params: unknown) => Either.Either<A, ErrorShape>) => {
  const decode = Schema.decodeUnknownEither(schema, DECODE_OPTIONS)
  return (params) => {
    const result = decode(params === undefined || params === null ? EMPTY : params)
    return Either.isRight(result)
      ? Either.right(result.right)
      : Either.left(paramsError(method, firstProblem(result.left.issue)))
  }
}
