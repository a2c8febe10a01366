// Types of golden.js (plain JS so every host loads it unchanged).
import type { Runtime, WasmSource } from "../../src/index.js";
import type { GoldenReport } from "./harness.js";

export declare const KERNEL_CALLS: Record<string, (ctx: unknown) => unknown>;
export declare const CONFIGS: Array<{ label: string; options: Record<string, unknown> }>;
export declare const CASE_KINDS: Record<string, (rt: Runtime, c: unknown, opts: unknown) => unknown>;
export declare function hostInfo(): { runtime: string; version: string };
export declare function hashF32(values: Float32Array): string;
export declare function runGolden(
  fixture: { cases: unknown[]; assets?: Record<string, string> },
  opts?: {
    wasm?: (label: string) => WasmSource;
    host?: { runtime?: string; version?: string };
    asset?: (name: string) => Promise<Uint8Array>;
    embeddedModel?: boolean;
  },
): Promise<GoldenReport>;
