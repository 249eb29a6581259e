/**
 * While the CLI's modules load, error stacks are written with function names only. effect checks
 * at load time whether V8 keeps a function's frame, by formatting `new Error().stack`; formatting
 * a stack first finds the line ends of every script in it, and the CLI's bundle is 1.1 MB: 14
 * million instructions, about 3 ms of every command's start-up. Names are all that check reads.
 * main.ts puts the default back (`restoreStacks`) before any command runs.
 */
const prior = Object.getOwnPropertyDescriptor(Error, "prepareStackTrace")

Error.prepareStackTrace = (error: Error, frames: ReadonlyArray<NodeJS.CallSite>) =>
  [String(error), ...frames.map((frame) => `    at ${frame.getFunctionName() ?? "<anonymous>"}`)].join("\n")

export const restoreStacks = (): void => {
  if (prior === undefined) delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace
  else Object.defineProperty(Error, "prepareStackTrace", prior)
}
