// Vitest global setup: after a run that included the runtime matrix, composes the
// supported-runtimes table from the rows saved during this run (only when every host
// reported, so partial runs do not overwrite bench/results/runtimes.md). Rows are not
// deleted up front: other vitest runs may share the folder; their timestamps tell them apart.
import { composeTable } from "./compose_table.mjs";

let started = 0;

export function setup(): void {
  started = Date.now();
}

// Silent: vitest's summary must stay the run's last line (CI reads it).
export function teardown(): void {
  composeTable(started);
}
