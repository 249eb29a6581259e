/**
 * The process title replaces the command line at start (security.md section 9): a secret given
 * as `--token`/`--password` would otherwise be readable by every local user in `ps` and
 * /proc/PID/cmdline for as long as the process runs. On Linux, setting process.title rewrites
 * the memory /proc/PID/cmdline is read from, so both show only the title; the flag is still
 * visible in the few milliseconds before this module runs, hence the help text prefers the
 * environment variables and the -file flags.
 */

/** `openclaw` and at most two command words (`openclaw gateway run`); flags and values never. */
export const processTitle = (args: ReadonlyArray<string>): string => {
  const words: Array<string> = []
  for (const a of args) {
    if (words.length === 2 || !/^[a-z][a-z-]{0,31}$/.test(a)) break
    words.push(a)
  }
  return ["openclaw", ...words].join(" ")
}

try {
  process.title = processTitle(process.argv.slice(2))
} catch {
  // A platform that cannot set the title: nothing to replace there.
}
