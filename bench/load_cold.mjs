// Cold start of the default translator in a fresh Node process (spawned by bench/load.bench.ts;
// plain JS, so what is timed is the import of the library as shipped in dist/):
//   node bench/load_cold.mjs <dist/index.js path>
// Prints one JSON line: import / runtime (+ createRuntime) / load (+ loadModel()) / first token
// milliseconds, each from just before the import; the process's CPU time (all threads, wasm
// compilation included) over the same span, which a shared machine's load disturbs less than the
// wall clock; and the first token's text.
import { pathToFileURL } from "node:url";

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const c0 = cpu();
const t0 = performance.now();
const sf = await import(pathToFileURL(process.argv[2]).href);
const imported = performance.now() - t0;
const rt = await sf.createRuntime({ threads: 1 });
const runtime = performance.now() - t0;
const tm = await rt.loadModel();
const loaded = performance.now() - t0;
const out = await tm.translate("i like deep learning", { maxNewTokens: 1 });
const firstToken = performance.now() - t0;
const cpuMs = cpu() - c0;
tm.dispose();
rt.dispose();
process.stdout.write(JSON.stringify({ imported, runtime, loaded, firstToken, cpuMs, text: out.text }) + "\n");
