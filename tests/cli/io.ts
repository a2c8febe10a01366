// The fake CLI io every CLI test runs with: output collected into arrays, no environment.
import type { CliIo } from "../../src/cli/main.js";

/** A CliIo whose stdout/stderr writes land in `out`/`err`; `tty` sets isTTY on both streams. */
export function io(tty = false): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out, err,
    stdout: { write: (s: string) => out.push(s), isTTY: tty, columns: 80 },
    stderr: { write: (s: string) => err.push(s), isTTY: tty, columns: 80 },
    env: {},
    version: "0.0.0-test",
  };
}
