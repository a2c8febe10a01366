// Runs hosts without a network where the kernel allows it: `unshare -n` gives the child an
// empty network namespace (loopback only, down), so a stray registry or CDN fetch fails
// loudly instead of silently succeeding. Where unshare is refused (unprivileged CI), the
// hosts' own offline flags (--cached-only, --no-remote, --no-install) still apply.
import { spawnSync } from "node:child_process";

let available: boolean | undefined;

/** Whether `unshare -n` works here (probed once). */
export function netnsAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync("unshare", ["-n", "true"], { timeout: 5000, stdio: "ignore" });
    available = r.status === 0;
  }
  return available;
}

/** The command and arguments that run `cmd args` without network access where possible. */
export function offline(cmd: string, args: string[]): { cmd: string; args: string[]; netns: boolean } {
  if (netnsAvailable()) return { cmd: "unshare", args: ["-n", cmd, ...args], netns: true };
  return { cmd, args, netns: false };
}

/** The row's network label for a child started through offline(). */
export function networkLabel(netns: boolean): string {
  return netns ? "none (netns)" : "host's (offline flags only)";
}
