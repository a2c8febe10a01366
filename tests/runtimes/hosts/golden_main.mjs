// Golden driver for hosts with a module loader and JSON modules (Node, Deno, Bun):
// runs the golden cases against the installed package and prints one report line.
import fixture from "./golden.json" with { type: "json" };
import { runGolden } from "./golden.js";

const report = await runGolden(fixture);
console.log("GOLDEN " + JSON.stringify(report));
