// Cold start of the default translator in a fresh Node process (spawned by bench/load.bench.ts;
// plain JS, so what is timed is the import of the library as shipped in dist/):
//   node bench/load_cold.mjs <dist/index.js path>
// Prints one JSON line: import / load (createRuntime + loadModel()) / first token milliseconds,
// each from just before the import, and the first token's text.
import { pathToFileURL } from "node:url";

const t0 = performance.now();
const sf = await import(pathToFileURL(process.argv[2]).href);
const imported = performance.now() - t0;
const rt = await sf.createRuntime({ threads: 1 });
const tm = await rt.loadModel();
const loaded = performance.now() - t0;
const out = await tm.translate("i like deep learning", { maxNewTokens: 1 });
const firstToken = performance.now() - t0;
tm.dispose();
rt.dispose();
process.stdout.write(JSON.stringify({ imported, loaded, firstToken, text: out.text }) + "\n");
