// Types of compose_table.mjs.
import type { RuntimeRow } from "./harness.js";

/** Where host tests save their rows (git-ignored tmp/). */
export declare const RESULTS_DIR: string;
export declare const TABLE: string;
export declare const HOSTS: string[];
export declare function renderTable(rows: RuntimeRow[]): string;
export declare function composeTable(since?: number): { written: boolean; missing: string[] };
