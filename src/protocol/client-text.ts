/** Client-chosen strings as messages and log lines show them: cut short, and quoted in logs. */

/** A client's string as error messages show it: cut short, never the whole of a large value. */
export const shortened = (s: string, max = 100): string => (s.length > max ? `${s.slice(0, max)}...` : s)

/** A client's string in a log line: quoted (JSON), so newlines cannot forge another line. */
export const quoted = (s: string, max = 64): string => JSON.stringify(shortened(s, max))
