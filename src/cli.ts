#!/usr/bin/env node
// simdformer command line. For now: `info` prints the runtime's features and runs a smoke computation.
import { createRuntime } from "./index.js";

async function main(): Promise<number> {
  const rt = await createRuntime();
  const f = rt.features;
  console.log(`simdformer  build=${f.build}  threads=${f.threads}  relaxedSimd=${f.relaxedSimd}`);
  for (const n of f.notes) console.log(`  note: ${n}`);
  rt.dispose();
  return 0;
}

main().then((code) => process.exit(code));
