/**
 * The CLI's help, rendered here over @effect/cli's own HelpDoc (CommandDescriptor.getHelp) so it
 * reads like a good CLI's: one line per flag, commands with a one-line description, usage lines
 * that start with `openclaw`, no library filler, colour only on a terminal. Also answers what
 * @effect/cli handles badly before it parses: `--help` anywhere, `--wizard` (it would wait for
 * input), a bare command group, and an unknown subcommand (with that group's commands, exit 2).
 */
import type { Command } from "@effect/cli"
import * as CliConfig from "@effect/cli/CliConfig"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import type * as HelpDoc from "@effect/cli/HelpDoc"
import type * as Span from "@effect/cli/HelpDoc/Span"

export interface Flag {
  /** e.g. "--port", or "-h, --help". */
  readonly names: ReadonlyArray<string>
  /** The value's placeholder ("<port>", "loopback|lan"), undefined for a boolean flag. */
  readonly value: string | undefined
  readonly description: string
}

export interface CommandNode {
  readonly name: string
  readonly description: string
  readonly flags: ReadonlyArray<Flag>
  readonly args: ReadonlyArray<{ readonly name: string; readonly description: string }>
  readonly children: ReadonlyArray<CommandNode>
}

const spanText = (span: Span.Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    default:
      return spanText(span.value)
  }
}

/** The doc's blocks in order (sequences flattened). */
const blocks = (doc: HelpDoc.HelpDoc): Array<HelpDoc.HelpDoc> =>
  doc._tag === "Sequence" ? [...blocks(doc.left), ...blocks(doc.right)] : doc._tag === "Empty" ? [] : [doc]

/** An option's or argument's own description: the type line and the library's notes are dropped. */
const ownDescription = (doc: HelpDoc.HelpDoc): string =>
  blocks(doc)
    .slice(1)
    .filter((b): b is HelpDoc.Paragraph => b._tag === "Paragraph")
    .map((b) => spanText(b.value))
    .filter((t) => !/^This (setting|option|argument) /.test(t))
    .join(" ")

/**
 * "--port port" -> --port <port>; "--token text" -> --token <token>; choices "--bind a | b" ->
 * --bind <mode> with "a|b" after the description, so the flag column stays narrow.
 */
const toFlag = (usage: string, description: string): Flag => {
  const words = usage.replace(/^\(|\)$/g, "").split(" ")
  const names = words.filter((w) => w.startsWith("-")).map((w) => w.replace(/,$/, ""))
  const rest = words.filter((w) => !w.startsWith("-")).join(" ")
  const long = (names.find((n) => n.startsWith("--")) ?? names[0] ?? "").replace(/^-+/, "")
  if (rest.includes(" | "))
    return { names, value: "<mode>", description: `${description}: ${rest.replace(/ \| /g, "|")}` }
  const value = rest === "" ? undefined : `<${rest === "text" ? long : rest === "integer" ? "n" : rest}>`
  return { names, value, description }
}

const noBuiltIns = CliConfig.make({ showBuiltIns: false })

/**
 * The tree of commands, read from the descriptors (@effect/cli's Standard / Map / Subcommands).
 * A node renders its help only when asked: `preflight` reads the few nodes a command line names,
 * and rendering every command's help took 3-5 ms of each short command's start-up.
 */
export const commandTree = (command: Command.Command<any, any, any, any>): CommandNode => toNode(command.descriptor)

/** The Standard descriptor that names a command and holds its options. */
const standardOf = (d: any): any =>
  d._tag === "Map" ? standardOf(d.command) : d._tag === "Subcommands" ? standardOf(d.parent) : d

const toNode = (d: any): CommandNode => {
  if (d._tag === "Map") return toNode(d.command)
  const standard = standardOf(d)
  const children = d._tag === "Subcommands" ? (d.children as Array<unknown>).map(toNode) : []
  let help: Pick<CommandNode, "description" | "flags" | "args"> | undefined
  const read = () => (help ??= helpOf(standard))
  return {
    name: String(standard.name),
    get description() {
      return read().description
    },
    get flags() {
      return read().flags
    },
    get args() {
      return read().args
    },
    children
  }
}

const helpOf = (d: any): Pick<CommandNode, "description" | "flags" | "args"> => {
  const node = {
    description: "",
    flags: [] as Array<Flag>,
    args: [] as Array<{ name: string; description: string }>
  }
  let section = ""
  for (const block of blocks(Descriptor.getHelp(d, noBuiltIns))) {
    if (block._tag === "Header") section = spanText(block.value)
    else if (block._tag === "Paragraph" && section === "DESCRIPTION" && node.description === "")
      node.description = spanText(block.value)
    else if (block._tag === "DescriptionList") {
      for (const [span, doc] of block.definitions) {
        if (section === "OPTIONS") node.flags.push(toFlag(spanText(span), ownDescription(doc)))
        else if (section === "ARGUMENTS") node.args.push({ name: spanText(span), description: ownDescription(doc) })
      }
    }
  }
  return node
}

/** Flags every command understands (answered by @effect/cli or by `preflight`). */
const helpFlag: Flag = { names: ["-h", "--help"], value: undefined, description: "Show this help" }
const rootFlags: ReadonlyArray<Flag> = [
  helpFlag,
  { names: ["--version"], value: undefined, description: "Print the version" },
  { names: ["--completions"], value: "<shell>", description: "Print a completion script: sh|bash|fish|zsh" }
]

/** Colour only for a terminal that wants it (https://no-color.org, TERM=dumb). */
export const useColor = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean =>
  stream.isTTY === true && (env.NO_COLOR ?? "") === "" && env.TERM !== "dumb"

const table = (rows: ReadonlyArray<readonly [string, string]>): Array<string> => {
  const width = Math.min(26, Math.max(...rows.map(([left]) => left.length)))
  return rows.map(([left, right]) => (right === "" ? `  ${left}` : `  ${left.padEnd(width)}  ${right}`))
}

const flagRows = (flags: ReadonlyArray<Flag>) =>
  flags.map((f) => [`${f.names.join(", ")}${f.value === undefined ? "" : ` ${f.value}`}`, f.description] as const)

const commandRows = (node: CommandNode) => node.children.map((c) => [c.name, c.description] as const)

/** A group whose own command does nothing but list its subcommands (`openclaw nodes`). */
const isPureGroup = (node: CommandNode) => node.children.length > 0 && node.flags.length === 0 && node.args.length === 0

/** The help text for the command at `path` (names after `openclaw`). */
export const renderHelp = (node: CommandNode, path: ReadonlyArray<string>, version: string, color: boolean): string => {
  const h = (title: string) => (color ? `\x1b[1m${title}\x1b[0m` : title)
  const full = ["openclaw", ...path].join(" ")
  const argsUsage = node.args.map((a) => a.name).join(" ")
  const usage: Array<string> = []
  if (node.children.length > 0) {
    if (!isPureGroup(node)) usage.push(`${full}${path.length === 0 ? "" : ` [${node.children[0]!.name}]`} [options]`)
    usage.push(`${full} <command> [options]`)
  } else usage.push(`${full}${argsUsage === "" ? "" : ` ${argsUsage}`} [options]`)
  const lines = [
    path.length === 0 ? `openclaw ${version}: ${node.description}` : node.description,
    "",
    `${h("Usage:")} ${usage[0]}`
  ]
  for (const u of usage.slice(1)) lines.push(`       ${u}`)
  if (node.children.length > 0) lines.push("", h("Commands:"), ...table(commandRows(node)))
  if (node.args.length > 0)
    lines.push("", h("Arguments:"), ...table(node.args.map((a) => [a.name, a.description] as const)))
  const flags = path.length === 0 ? rootFlags : [...node.flags, helpFlag]
  const title =
    node.children.length > 0 && node.flags.length > 0 ? `Options (${full} ${node.children[0]!.name}):` : "Options:"
  lines.push("", h(title), ...table(flagRows(flags)))
  if (node.children.length > 0) lines.push("", `Run \`${full} <command> --help\` for a command's options.`)
  return lines.join("\n") + "\n"
}

export interface Answer {
  readonly code: number
  readonly stdout?: string
  readonly stderr?: string
}

const takesValue = (node: CommandNode, arg: string, atRoot: boolean): boolean => {
  if (arg.includes("=")) return false
  const flags = atRoot
    ? [...node.flags, { names: ["--completions", "--log-level"], value: "x", description: "" }]
    : node.flags
  return flags.some((f) => f.value !== undefined && f.names.includes(arg))
}

/**
 * What to answer before @effect/cli parses `argv` (the words after `openclaw`), or undefined to
 * let it run the command.
 */
export const preflight = (
  root: CommandNode,
  argv: ReadonlyArray<string>,
  version: string,
  color: boolean
): Answer | undefined => {
  const end = argv.indexOf("--")
  const args = end < 0 ? argv : argv.slice(0, end)
  let node = root
  const path: Array<string> = []
  let stray: string | undefined
  // Flags, not the values of flags (`--message -h` is a message).
  const flags = new Set<string>()
  let positional = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg.startsWith("-")) {
      flags.add(arg.split("=")[0]!)
      if (takesValue(node, arg, path.length === 0)) i++
      continue
    }
    // After the command's first argument, only flags matter.
    if (positional || stray !== undefined) continue
    const child = node.children.find((c) => c.name === arg)
    if (child !== undefined) {
      node = child
      path.push(arg)
    } else if (node.children.length > 0 && node.args.length === 0) stray = arg
    else positional = true
  }
  const full = ["openclaw", ...path].join(" ")
  if (flags.has("--wizard")) {
    return { code: 2, stderr: `${full}: --wizard is not supported; every setting is a flag (\`${full} --help\`)\n` }
  }
  if (flags.has("--help") || flags.has("-h")) return { code: 0, stdout: renderHelp(node, path, version, color) }
  if (path.length === 0 && flags.has("--version")) return { code: 0, stdout: `${version}\n` }
  if (stray !== undefined) {
    return {
      code: 2,
      stderr:
        [
          `${full}: unknown command "${stray}". Commands:`,
          ...table(commandRows(node)),
          `Run \`${full} --help\` for more.`
        ].join("\n") + "\n"
    }
  }
  if (isPureGroup(node) && !["--completions", "--log-level"].some((f) => flags.has(f))) {
    return { code: 0, stdout: renderHelp(node, path, version, color) }
  }
  return undefined
}
