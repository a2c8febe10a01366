// Canary blocks for tests of loads that must fail cleanly: one block of seeded random bytes in
// each memory region, placed before the loads; a load that wrote outside its own blocks
// changes one of them.
import { expect } from "vitest";
import type { Engine } from "../../src/engine/engine.js";
import type { RegionName } from "../../src/engine/memory.js";
import { Rng } from "../../src/util/rng.js";

const REGIONS: RegionName[] = ["weights", "kv", "scratch"];

export class Canaries {
  private readonly blocks: Array<{ region: RegionName; ptr: number; pattern: Uint8Array }> = [];

  /** Allocates a 4 KiB canary in every region of `engine`, filled from `seed`. */
  constructor(private readonly engine: Engine, seed: number) {
    const rng = new Rng(seed);
    for (const region of REGIONS) {
      const pattern = new Uint8Array(4096).map(() => Math.floor(rng.next() * 256));
      const ptr = engine.regions[region].alloc(pattern.length);
      engine.mem.u8.set(pattern, ptr);
      this.blocks.push({ region, ptr, pattern });
    }
  }

  /** Fails the test if any canary's bytes changed. */
  expectIntact(): void {
    for (const c of this.blocks) expect(this.engine.mem.u8.subarray(c.ptr, c.ptr + c.pattern.length), c.region).toEqual(c.pattern);
  }

  /** Frees the canaries (before the runtime is disposed). */
  release(): void {
    for (const c of this.blocks) this.engine.regions[c.region].release(c.ptr);
    this.blocks.length = 0;
  }
}
