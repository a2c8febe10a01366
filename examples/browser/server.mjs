// A tiny static server for simdformer pages. With `isolated` every response carries
// COOP same-origin + COEP require-corp, which makes the page (and the thread pool's worker
// script, served by the same handler) cross-origin isolated: SharedArrayBuffer exists and
// simdformer runs threads. Without it the page falls back to one thread and says why.
// Usage: node server.mjs [--plain] [port]   (serves the current folder on 127.0.0.1)
// examples/playground/server.mjs reuses startServer with mounts and a CSP header.
import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".safetensors": "application/octet-stream",
};

/**
 * Serves `root` on 127.0.0.1 (`port` 0 picks a free one). `mounts` maps URL prefixes
 * ("/dist/") to other folders; `headers` go on every response.
 * @param {{ root: string, isolated?: boolean, port?: number, mounts?: Record<string, string>, headers?: Record<string, string> }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export function startServer({ root, isolated = true, port = 0, mounts = {}, headers: extra = {} }) {
  // Longest prefix first, so "/a/b/" wins over "/a/".
  const folders = Object.entries(mounts).map(([prefix, dir]) => [prefix, resolve(dir)]).sort((x, y) => y[0].length - x[0].length);
  const server = createServer((req, res) => {
    const headers = { "cache-control": "no-store", ...extra };
    if (isolated) {
      headers["cross-origin-opener-policy"] = "same-origin";
      headers["cross-origin-embedder-policy"] = "require-corp";
    }
    let path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let base = resolve(root);
    const mount = folders.find(([prefix]) => path.startsWith(prefix));
    if (mount) {
      base = mount[1];
      path = "/" + path.slice(mount[0].length);
    }
    let file = normalize(join(base, path.endsWith("/") ? path + "index.html" : path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403, headers).end("forbidden");
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, "index.html");
      statSync(file);
    } catch {
      res.writeHead(404, headers).end("not found");
      return;
    }
    headers["content-type"] = TYPES[extname(file)] ?? "application/octet-stream";
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolveStart, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: p } = server.address();
      resolveStart({
        url: `http://127.0.0.1:${p}/`,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const isolated = !process.argv.includes("--plain");
  const port = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 8080);
  const { url } = await startServer({ root: process.cwd(), isolated, port });
  console.log(`serving ${process.cwd()} at ${url} (${isolated ? "cross-origin isolated: threads" : "not isolated: one thread"})`);
}
