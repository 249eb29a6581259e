/** Whether this machine lets a test make a private network namespace with a veth pair. */
import { execFileSync } from "node:child_process"

export const canUnshare = (() => {
  try {
    execFileSync("unshare", ["--net", "sh", "-c", "ip link add t0 type veth peer name t1"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()
