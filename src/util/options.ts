import { ArgumentError } from "../errors.js";

/** What a value is, for "found ..." in messages: null, array, or its typeof. */
export function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/**
 * Checks an options argument: undefined (gives {}) or a non-array object, whose keys are
 * all in `known` when that list is given. Throws ArgumentError naming `where`.
 */
export function optionsObject<T extends object>(where: string, value: T | undefined, known?: readonly string[]): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ArgumentError(`${where}: options: expected an object, found ${kindOf(value)}`);
  }
  if (known) {
    const unknown = Object.keys(value).find((k) => !known.includes(k));
    if (unknown !== undefined) {
      throw new ArgumentError(`${where}: options: expected keys among ${known.map((k) => `"${k}"`).join(", ")}, found "${unknown}"`);
    }
  }
  return value;
}
