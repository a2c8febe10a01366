import { createRuntime } from "simdformer";
import { loadOrt, loadTfjs } from "./peers.js";

const out = document.getElementById("out")!;
const lines: string[] = [];
const say = (s: string) => { lines.push(s); out.textContent = lines.join("\n"); };
const rt = await createRuntime({ threads: "auto" });
say(`${rt.features.build} ${rt.features.threads} ${rt.features.notes.join("; ")}`);
const a = new Float32Array(64 * 64).map((_, i) => (i % 7) / 7), b = new Float32Array(64 * 64).map((_, i) => (i % 5) / 5);
for (const load of [loadOrt, loadTfjs]) {
  try {
    const p = await load();
    const op = await p.prepare({ op: "matmul", m: 64, k: 64, n: 64, a, b });
    const y = await op!.output();
    say(`${p.name} ${p.version} ok ${y[0]} ${p.notes.join(" | ")}`);
  } catch (e) { say(`error ${(e as Error).message}`); }
}
document.title = "done";
