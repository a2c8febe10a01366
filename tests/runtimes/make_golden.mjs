// Writes tests/fixtures/runtimes/golden.json from tests/runtimes/golden_cases.ts.
// Usage: node tests/runtimes/make_golden.mjs   (deterministic: same registry, same file)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "golden-"));
try {
  const out = join(tmp, "golden_cases.mjs");
  await esbuild.build({
    entryPoints: [join(root, "tests/runtimes/golden_cases.ts")],
    outfile: out, bundle: true, format: "esm", platform: "node", logLevel: "warning",
  });
  const { makeGolden } = await import(pathToFileURL(out).href);
  const fixture = makeGolden(root);
  const file = join(root, "tests/fixtures/runtimes/golden.json");
  writeFileSync(file, JSON.stringify(fixture) + "\n");
  console.log(`wrote ${file}: ${fixture.cases.length} cases`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
