// Terminal output: colors only on a TTY without NO_COLOR, progress bars only on a TTY.

interface Stream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

/** Whether `stream` should get ANSI colors (TTY, NO_COLOR unset, TERM not "dumb"). */
export function useColor(stream: Stream, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== "dumb";
}

export interface Painter {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
}

export function painter(color: boolean): Painter {
  const wrap = (code: number, end: number) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[${end}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), yellow: wrap(33, 39), red: wrap(31, 39) };
}

/** A one-line progress bar redrawn in place on a TTY; silent elsewhere. */
export class ProgressBar {
  private last = -1;

  constructor(private readonly stream: Stream, private readonly label: string) {}

  /** fraction in [0, 1]; redraws only when the shown percentage changes. */
  update(fraction: number, detail = ""): void {
    if (!this.stream.isTTY) return;
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    if (pct === this.last && detail === "") return;
    this.last = pct;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - 30));
    const filled = Math.round((pct / 100) * width);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    this.stream.write(`\r${this.label} ${bar} ${String(pct).padStart(3)}% ${detail}`.slice(0, (this.stream.columns ?? 80) - 1) + "\x1b[K");
  }

  done(): void {
    if (this.stream.isTTY && this.last >= 0) this.stream.write("\r\x1b[K");
  }
}
