import { UnsupportedFeatureError } from "../errors.js";
import type { HostFeatures } from "./features.js";

/** The wasm builds made from assembly/ (see asconfig.json targets). */
export const BUILDS = ["relaxed-shared", "simd-shared", "relaxed", "simd", "scalar"] as const;
export type BuildName = (typeof BUILDS)[number];

/** Instruction set a caller may ask for; "auto" takes the best the host validates. */
export type SimdChoice = "auto" | "relaxed" | "strict" | "scalar";

export interface BuildTraits {
  simd: boolean;
  relaxedSimd: boolean;
  shared: boolean;
}

export function buildTraits(build: BuildName): BuildTraits {
  return {
    simd: build !== "scalar",
    relaxedSimd: build.startsWith("relaxed"),
    shared: build.endsWith("-shared"),
  };
}

/** Decodes the module's build_info() flags into a build name. */
export function buildFromInfo(flags: number): BuildName {
  const simd = (flags & 1) !== 0;
  const relaxed = (flags & 2) !== 0;
  const shared = (flags & 4) !== 0;
  if (!simd) return "scalar";
  return `${relaxed ? "relaxed" : "simd"}${shared ? "-shared" : ""}` as BuildName;
}

/** Why each better build was passed over, filled while choosing. */
export interface BuildChoice {
  build: BuildName;
  notes: string[];
}

/**
 * Picks the build for a host. `wantThreads` asks for shared memory; a forced ISA
 * the host cannot run is an UnsupportedFeatureError (never a silent downgrade).
 */
export function chooseBuild(host: HostFeatures, simd: SimdChoice, wantThreads: boolean): BuildChoice {
  const notes: string[] = [];
  let isa: "relaxed" | "simd" | "scalar";
  if (simd === "scalar") {
    isa = "scalar";
    notes.push("scalar forced by option");
  } else if (simd === "relaxed") {
    if (!host.relaxedSimd) throw new UnsupportedFeatureError(`simd: "relaxed" forced, but ${host.reasons.relaxedSimd}`);
    isa = "relaxed";
  } else if (simd === "strict") {
    if (!host.simd) throw new UnsupportedFeatureError(`simd: "strict" forced, but ${host.reasons.simd}`);
    isa = "simd";
    if (host.relaxedSimd) notes.push("relaxed SIMD available but strict forced by option");
  } else if (host.relaxedSimd) {
    isa = "relaxed";
  } else if (host.simd) {
    isa = "simd";
    notes.push(`not relaxed: ${host.reasons.relaxedSimd}`);
  } else {
    isa = "scalar";
    notes.push(`not SIMD: ${host.reasons.simd}`);
  }
  let shared = false;
  if (wantThreads) {
    if (isa === "scalar") notes.push("single thread: the scalar build has no shared-memory variant");
    else if (!host.threads) notes.push(`single thread: ${host.reasons.threads}`);
    else shared = true;
  }
  const build = (isa === "scalar" ? "scalar" : `${isa}${shared ? "-shared" : ""}`) as BuildName;
  return { build, notes };
}
