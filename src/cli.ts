#!/usr/bin/env node
// Entry of the `simdformer` bin (and `npm start`).
import { createRequire } from "node:module";
import v8 from "node:v8";

// Node 20 validates relaxed SIMD only behind this flag, and only if set before any wasm compiles.
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

const { isClosedPipe, runCli } = await import("./cli/main.js");
// A reader that closed the pipe (`simdformer generate ... | head`) reports EPIPE as a stream
// error event, not from write(): end at once, quietly and with status 0, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (!isClosedPipe(e)) throw e;
    process.exit(0);
  });
}
const { version } = createRequire(import.meta.url)("../package.json") as { version: string };
const stdin = {
  isTTY: process.stdin.isTTY,
  async text() {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};
const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, version, stdin });
process.exitCode = code;
