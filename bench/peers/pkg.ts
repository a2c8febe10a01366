import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** Folder and version of an installed package (walks up from its resolved entry: not every package exports ./package.json). */
export function packageInfo(name: string): { dir: string; version: string } {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === name) return { dir, version: pkg.version ?? "unknown" };
    } catch {
      // no package.json at this level: keep walking up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`package ${name}: no package.json above its entry`);
    dir = up;
  }
}
