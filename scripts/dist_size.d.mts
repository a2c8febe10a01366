// Types of dist_size.mjs.
export interface FileSize {
  file: string;
  bytes: number;
  gzip: number;
}
export interface SizeSum {
  files: FileSize[];
  bytes: number;
  gzip: number;
}
export declare const FIGURE_WASM: string;
export declare function importGraph(distDir: string, entry: string): string[];
export declare function sizeOf(dir: string, files: string[]): SizeSum;
export declare function shippedSize(distDir: string): SizeSum;
