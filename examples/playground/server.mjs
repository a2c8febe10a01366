// The playground: bundles the page's TypeScript (src/) with esbuild into a temporary folder
// served at /app/, next to the static files of public/,
// then serves it on 127.0.0.1 with the strict CSP (no inline script, no eval: only same-origin
// scripts and wasm compilation) and, unless --plain, COOP/COEP so threads run. Everything
// comes from this machine: the package's dist/ and default model, and the peers' own files
// from node_modules (onnxruntime-web, tfjs-backend-wasm). No CDN, no network.
// Usage: npm run playground [-- --plain] [-- <port>]
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { startServer } from "../browser/server.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");

/** The Content-Security-Policy of every response: scripts and wasm from this origin only, never eval. */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/**
 * The page imports the package as "simdformer": the shipped bundle, served at /dist/ (not the
 * sources), so the page uses exactly what users get. Peers' loaders are fetched at run time.
 */
const distPlugin = {
  name: "simdformer-dist",
  setup(build) {
    build.onResolve({ filter: /^simdformer$/ }, () => ({ path: "/dist/index.js", external: true }));
  },
};

/** Bundles src/main.ts (and its lazily loaded chunks) into `outdir`. */
export async function buildPage(outdir) {
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(HERE, "src", "main.ts") },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    keepNames: true,
    plugins: [distPlugin],
    logLevel: "warning",
  });
}

/**
 * Builds the page and serves it (`port` 0 picks a free one). `isolated` adds COOP/COEP.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startPlayground({ isolated = true, port = 0 } = {}) {
  for (const f of ["dist/index.js", "dist/worker.js", "models/default/translator.safetensors"]) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }
  const app = mkdtempSync(join(tmpdir(), "simdformer-playground-"));
  await buildPage(app);
  const modules = join(ROOT, "node_modules");
  const server = await startServer({
    root: join(HERE, "public"),
    isolated,
    port,
    headers: { "content-security-policy": CSP },
    mounts: {
      "/app/": app,
      "/dist/": join(ROOT, "dist"),
      "/models/default/": join(ROOT, "models", "default"),
      "/vendor/onnxruntime-web/": join(modules, "onnxruntime-web", "dist"),
      "/vendor/tfjs-backend-wasm/": join(modules, "@tensorflow", "tfjs-backend-wasm", "dist"),
    },
  });
  return {
    url: server.url,
    close: async () => {
      await server.close();
      rmSync(app, { recursive: true, force: true });
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const isolated = !process.argv.includes("--plain");
  const port = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 8080);
  const { url, close } = await startPlayground({ isolated, port });
  console.log(`simdformer playground at ${url}`);
  console.log(isolated ? "cross-origin isolated (COOP/COEP): threads on" : "not isolated (--plain): one thread");
  console.log("Ctrl-C stops it");
  process.once("SIGINT", () => void close().then(() => process.exit(0)));
}
