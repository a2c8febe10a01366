// Golden driver for hosts with a module loader, JSON modules and node:fs (Node, Deno, Bun):
// runs the golden cases against the installed package and prints one report line.
import { readFile } from "node:fs/promises";
import fixture from "./golden.json" with { type: "json" };
import { runGolden } from "./golden.js";

const asset = async (name) => new Uint8Array(await readFile(new URL(`./assets/${name}`, import.meta.url)));
const report = await runGolden(fixture, { asset });
console.log("GOLDEN " + JSON.stringify(report));
