import { ArgumentError, UnsupportedFeatureError } from "../errors.js";
import type { BuildName } from "./builds.js";
import { wasmDir } from "./assets.js";

/** Where the wasm comes from. Give at most one; by default the build is read from the package. */
export interface WasmSource {
  /** A compiled module, e.g. a workerd module binding (no runtime compilation there). */
  module?: WebAssembly.Module;
  /** The bytes of one build. */
  bytes?: BufferSource;
  /** A URL or path of one build, or of the folder holding all builds (ending in "/"). */
  url?: string | URL;
}

export function wasmFileName(build: BuildName): string {
  return `simdformer.${build}.wasm`;
}

/** Reads a file: URL with node:fs (Node, Deno, Bun) and anything else with fetch. */
async function readUrl(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === "file:") {
    const fs = await import("node:fs/promises");
    try {
      return new Uint8Array(await fs.readFile(url));
    } catch (e) {
      throw new ArgumentError(`${decodeURIComponent(url.pathname)}: expected a readable file, found ${(e as { code?: string }).code ?? (e as Error).message}`);
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new ArgumentError(`fetching ${url}: expected HTTP 200, found ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function toUrl(u: string | URL): URL {
  if (u instanceof URL) return u;
  if (/^[a-z][a-z0-9+.-]*:/i.test(u)) return new URL(u);
  // A bare path: relative to the working directory where there is one (Node, Deno, Bun).
  const proc = (globalThis as { process?: { cwd?: () => string } }).process;
  if (proc?.cwd) return new URL(u, `file://${proc.cwd()}/`);
  return new URL(u, (globalThis as { location?: { href: string } }).location?.href);
}

/** Compiles (or takes) the module for `build` from the given source. */
export async function loadModule(build: BuildName, source: WasmSource): Promise<WebAssembly.Module> {
  const given = [source.module, source.bytes, source.url].filter((x) => x !== undefined).length;
  if (given > 1) throw new ArgumentError("wasm: expected at most one of module, bytes, url");
  if (source.module) {
    if (!(source.module instanceof WebAssembly.Module)) {
      throw new ArgumentError(`wasm.module: expected a WebAssembly.Module, found ${typeof source.module}`);
    }
    return source.module;
  }
  let bytes: BufferSource;
  if (source.bytes) bytes = source.bytes;
  else {
    // wasmDir is undefined where modules have no URL (workerd, edge VM scripts).
    let url = source.url ? toUrl(source.url) : wasmDir;
    if (!url) {
      throw new ArgumentError(
        "wasm: expected wasm.module or wasm.bytes in a host that gives modules no URL (import.meta.url; e.g. workerd), found neither",
      );
    }
    if (url.pathname.endsWith("/")) url = new URL(wasmFileName(build), url);
    bytes = await readUrl(url);
  }
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new UnsupportedFeatureError(`wasm: this host cannot compile the ${build} build: ${(e as Error).message}`);
  }
}
