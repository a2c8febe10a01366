/**
 * A batch is packed without padding: sequence i owns activation rows
 * [row, row + length), and its first row sits at position `past` (tokens already in its
 * KV cache). Row-wise ops see one matrix; attention and positions work per segment.
 */
export interface Segment {
  /** First activation row of this sequence. */
  row: number;
  /** Rows (tokens) of this sequence in the current pass. */
  length: number;
  /** Position of the first row: tokens this sequence already has in its KV cache. */
  past: number;
}

/** Segments of sequences laid back to back, each starting at position `past[i]` (default 0). */
export function packSegments(lengths: readonly number[], past?: ArrayLike<number>): Segment[] {
  let row = 0;
  return lengths.map((length, i) => {
    const s = { row, length, past: past ? past[i] : 0 };
    row += length;
    return s;
  });
}

/** Total rows of a packed batch. */
export const totalRows = (segs: readonly Segment[]): number => segs.reduce((a, s) => a + s.length, 0);
