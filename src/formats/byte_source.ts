// Where a model file's bytes come from, read front to back: bytes in memory, a path (Node, Deno,
// Bun: node:fs reads at the position, straight into the caller's buffer), a fetch Response or
// ReadableStream (browsers, workerd), a Blob / File. Readers fill buffers the caller owns (the
// loader's staging block or a tensor's final place in wasm memory), so no source holds the file.
import { AbortError, ArgumentError, ModelFormatError, ReadError } from "../errors.js";

/** How far a load is: bytes read so far and the total (undefined when the source does not tell). */
export interface LoadProgress {
  bytesDone: number;
  bytesTotal: number | undefined;
}

/** Progress reporting and cancellation of a load. */
export interface ReadControl {
  /** Called after every chunk read (a few MiB at most between calls). */
  onProgress?: (p: LoadProgress) => void;
  /** Aborting it stops the load at the next chunk with an AbortError. */
  signal?: AbortSignal;
}

/**
 * Reads below this size (norms, biases) are served from a read-ahead of READ_AHEAD bytes: one read
 * for many small tensors. Small, because it is JS memory the load touches besides the weights.
 */
const SMALL_READ = 64 * 1024;
const READ_AHEAD = 256 * 1024;
/** Bytes read by one call of the file system or handed over by one stream chunk, at most. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** Counts the bytes of every source of one load (a model may be several files) for onProgress. */
export class ProgressCounter {
  private done = 0;
  private total: number | undefined = 0;

  constructor(private readonly control: ReadControl = {}) {}

  /** Adds a source's size to the total (undefined: the total is unknown from then on). */
  expect(bytes: number | undefined): void {
    this.total = bytes === undefined || this.total === undefined ? undefined : this.total + bytes;
  }

  /** Throws AbortError when the signal has fired. */
  check(file: string): void {
    const s = this.control.signal;
    if (s?.aborted) throw new AbortError(`loading ${file}: aborted after ${this.done} bytes${s.reason !== undefined ? ` (${String(s.reason)})` : ""}`);
  }

  add(bytes: number): void {
    this.done += bytes;
    this.control.onProgress?.({ bytesDone: this.done, bytesTotal: this.total });
  }
}

/**
 * One file read in order. `read` fills the whole buffer or throws: ModelFormatError when the
 * source ends first (a truncated file), ReadError when it fails (I/O error, a stream that
 * errors), AbortError when the load's signal fires.
 */
export abstract class ByteSource {
  /** Bytes taken from the underlying file or stream so far (readSome's offset). */
  protected fetched = 0;
  private counter: ProgressCounter = new ProgressCounter();
  /** Bytes read ahead by peek() or for small reads, handed out first. */
  private peeked: Uint8Array | undefined;
  /** The buffer small reads are served from (READ_AHEAD bytes, allocated on the first small read). */
  private ahead: Uint8Array | undefined;

  constructor(
    /** Name used in errors (a path, a URL, "<bytes>"). */
    readonly name: string,
    /** Total bytes when known up front (files, blobs, responses with a Content-Length). */
    readonly size: number | undefined,
  ) {}

  /** Bytes consumed so far (the offset in the file of the next read). */
  get position(): number {
    return this.fetched - (this.peeked?.byteLength ?? 0);
  }

  /** Reports this source's reads to `counter` (shared by the sources of one load). */
  countIn(counter: ProgressCounter): this {
    this.counter = counter;
    counter.expect(this.size);
    return this;
  }

  /** Fills `dest` with the next dest.byteLength bytes. */
  async read(dest: Uint8Array): Promise<void> {
    // Small reads (a model's norms and biases) come out of one read-ahead, not a read each.
    if (dest.byteLength < SMALL_READ && (this.peeked?.byteLength ?? 0) < dest.byteLength) await this.readAhead();
    let at = 0;
    if (this.peeked) {
      at = Math.min(dest.byteLength, this.peeked.byteLength);
      dest.set(this.peeked.subarray(0, at));
      this.peeked = at < this.peeked.byteLength ? this.peeked.subarray(at) : undefined;
    }
    while (at < dest.byteLength) {
      const got = await this.fetch(dest.subarray(at, Math.min(dest.byteLength, at + CHUNK_BYTES)));
      if (got === 0) {
        throw new ModelFormatError(this.name, "file size", `at least ${this.position + dest.byteLength - at} bytes`, `the source ended after ${this.position} bytes`);
      }
      at += got;
    }
  }

  /** Fills the one read-ahead buffer (what is left of the last peek first) up to READ_AHEAD bytes or the end. */
  private async readAhead(): Promise<void> {
    this.ahead ??= new Uint8Array(READ_AHEAD);
    const have = this.peeked?.byteLength ?? 0;
    if (this.peeked) this.ahead.set(this.peeked);
    const want = this.size === undefined ? READ_AHEAD : Math.min(READ_AHEAD, have + this.size - this.fetched);
    let at = have;
    for (let got = -1; at < want && got !== 0; at += got) got = await this.fetch(this.ahead.subarray(at, want));
    this.peeked = this.ahead.subarray(0, at);
  }

  /**
   * The next bytes (up to `n`; fewer only when the source ends) without consuming them: the
   * format is told from them, then reads start at the same position. The bytes are valid until
   * the next read (they may lie in the read-ahead buffer).
   */
  async peek(n: number): Promise<Uint8Array> {
    const have = this.peeked?.byteLength ?? 0;
    if (have >= n) return this.peeked!.subarray(0, n);
    const more = new Uint8Array(n);
    if (this.peeked) more.set(this.peeked);
    let at = have;
    for (let got = -1; at < n && got !== 0; at += got) got = await this.fetch(more.subarray(at));
    this.peeked = more.subarray(0, at);
    return this.peeked;
  }

  /** The next `n` bytes as a fresh array (headers, small files). */
  async take(n: number): Promise<Uint8Array> {
    const out = new Uint8Array(n);
    await this.read(out);
    return out;
  }

  /** Skips `n` bytes (padding, tensors a model does not use). */
  async skip(n: number): Promise<void> {
    const buf = new Uint8Array(Math.min(n, CHUNK_BYTES));
    for (let left = n; left > 0; left -= buf.byteLength) await this.read(left >= buf.byteLength ? buf : buf.subarray(0, left));
  }

  /** Everything left, as one array (small companion files, and the formats parsed from memory). */
  async rest(): Promise<Uint8Array> {
    if (this.size !== undefined) return this.take(this.size - this.position);
    const parts: Uint8Array[] = [];
    if (this.peeked) parts.push(this.peeked);
    this.peeked = undefined;
    for (;;) {
      const buf = new Uint8Array(CHUNK_BYTES);
      const got = await this.fetch(buf);
      if (got === 0) break;
      parts.push(buf.subarray(0, got));
    }
    const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }

  /** Releases the file handle or cancels the stream; idempotent. */
  abstract close(): Promise<void>;

  /** Reads at least one byte into `dest` from offset `fetched` (0: the source has ended). */
  protected abstract readSome(dest: Uint8Array): Promise<number>;

  /** One readSome with the abort check, error typing and progress count. */
  private async fetch(dest: Uint8Array): Promise<number> {
    this.counter.check(this.name);
    let got: number;
    try {
      got = await this.readSome(dest);
    } catch (e) {
      throw new ReadError(this.name, this.fetched, e);
    }
    this.fetched += got;
    if (got > 0) this.counter.add(got);
    return got;
  }
}

/** Bytes already in memory. */
export class MemorySource extends ByteSource {
  constructor(private readonly bytes: Uint8Array, name = "<bytes>") {
    super(name, bytes.byteLength);
  }

  protected async readSome(dest: Uint8Array): Promise<number> {
    const n = Math.min(dest.byteLength, this.bytes.byteLength - this.fetched);
    dest.set(this.bytes.subarray(this.fetched, this.fetched + n));
    return n;
  }

  async close(): Promise<void> {}
}

interface FileHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** A file read with node:fs (Node, Deno, Bun) into the caller's buffer: no copy in JS. */
export class FileSource extends ByteSource {
  private closed = false;

  private constructor(private readonly handle: FileHandle, name: string, size: number) {
    super(name, size);
  }

  /** Opens `path` (`name` in errors; default the path); an unreadable path is an ArgumentError with the system's code. */
  static async open(path: string, name = path): Promise<FileSource> {
    const fs = await import("node:fs/promises");
    let handle: FileHandle | undefined;
    try {
      handle = await fs.open(path, "r");
      const st = await (handle as unknown as { stat(): Promise<{ size: number; isFile(): boolean }> }).stat();
      if (!st.isFile()) throw Object.assign(new Error("not a file"), { code: "not a regular file" });
      return new FileSource(handle, name, st.size);
    } catch (e) {
      await handle?.close();
      throw new ArgumentError(`${path}: expected a readable file, found ${(e as { code?: string }).code ?? (e as Error).message}`);
    }
  }

  protected async readSome(dest: Uint8Array): Promise<number> {
    const { bytesRead } = await this.handle.read(dest, 0, dest.byteLength, this.fetched);
    return bytesRead;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/** A ReadableStream of bytes (a fetch body, Blob.stream()); chunks are copied out as they come. */
export class StreamSource extends ByteSource {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private chunk: Uint8Array | undefined;
  private ended = false;

  constructor(stream: ReadableStream<Uint8Array>, name: string, size?: number) {
    super(name, size);
    this.reader = stream.getReader();
  }

  protected async readSome(dest: Uint8Array): Promise<number> {
    while (!this.chunk || this.chunk.byteLength === 0) {
      if (this.ended) return 0;
      const { done, value } = await this.reader.read();
      if (done) {
        this.ended = true;
        return 0;
      }
      if (!(value instanceof Uint8Array)) throw new TypeError(`expected the stream to give Uint8Array chunks, found ${Object.prototype.toString.call(value)}`);
      this.chunk = value;
    }
    const n = Math.min(dest.byteLength, this.chunk.byteLength);
    dest.set(this.chunk.subarray(0, n));
    this.chunk = this.chunk.subarray(n);
    return n;
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.chunk = undefined;
    await this.reader.cancel().catch(() => undefined);
  }
}

/** What {@link openSource} reads. */
export type ByteInput = Uint8Array | ArrayBuffer | Blob | Response | ReadableStream<Uint8Array> | URL | string;

/** A Content-Length header as a byte count, when present and sane (a compressed body's is not the body's). */
function contentLength(res: Response): number | undefined {
  if (res.headers.get("content-encoding")) return undefined;
  const n = Number(res.headers.get("content-length") ?? NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A Response's body as a source; a failed response is a ReadError naming the status. */
function responseSource(res: Response, name: string): ByteSource {
  if (!res.ok) throw new ReadError(name, 0, new Error(`HTTP ${res.status} ${res.statusText}`.trim()));
  if (res.bodyUsed) throw new ArgumentError(`${name}: expected an unread Response, found its body already used`);
  if (!res.body) return new MemorySource(new Uint8Array(0), name);
  return new StreamSource(res.body as ReadableStream<Uint8Array>, name, contentLength(res));
}

/**
 * A source for any of the inputs loadModel takes as one file: bytes, a Blob or File, a
 * Response, a ReadableStream, a URL (file: URLs and paths through node:fs where there is a file
 * system, others through fetch with the signal). Paths only where `hasFileSystem`.
 */
export async function openSource(input: ByteInput, control: ReadControl = {}, name?: string): Promise<ByteSource> {
  if (input instanceof Uint8Array) return new MemorySource(input, name);
  if (input instanceof ArrayBuffer) return new MemorySource(new Uint8Array(input), name);
  // URLs and paths first: in Node, touching the Response or ReadableStream global loads undici (~70 ms of a cold start).
  if (input instanceof URL || typeof input === "string") {
    const url = String(input);
    if (input instanceof URL ? input.protocol === "file:" : !/^[a-z][a-z0-9+.-]+:/i.test(url) || url.startsWith("file:")) {
      if (!hasFileSystem()) throw new ArgumentError(`${url}: expected a URL this host can fetch (no file system here), found a path`);
      const path = url.startsWith("file:") ? decodeURIComponent(new URL(url).pathname) : url;
      return FileSource.open(path);
    }
    let res: Response;
    try {
      res = await fetch(url, { signal: control.signal });
    } catch (e) {
      if (control.signal?.aborted) throw new AbortError(`loading ${url}: aborted before the response`);
      throw new ReadError(url, 0, e);
    }
    return responseSource(res, name ?? url);
  }
  if (typeof Blob !== "undefined" && input instanceof Blob) {
    const fileName = (input as Blob & { name?: unknown }).name;
    return new StreamSource(input.stream() as ReadableStream<Uint8Array>, name ?? (typeof fileName === "string" && fileName ? fileName : "<blob>"), input.size);
  }
  if (typeof Response !== "undefined" && input instanceof Response) return responseSource(input, name ?? (input.url || "<response>"));
  if (typeof ReadableStream !== "undefined" && input instanceof ReadableStream) return new StreamSource(input, name ?? "<stream>");
  throw new ArgumentError(`expected bytes, a Blob, a Response, a ReadableStream, a URL or a path, found ${Object.prototype.toString.call(input)}`);
}

/** Whether `x` is one of the inputs openSource takes. */
export function isByteInput(x: unknown): x is ByteInput {
  return x instanceof Uint8Array || x instanceof ArrayBuffer || x instanceof URL || typeof x === "string" ||
    (typeof Blob !== "undefined" && x instanceof Blob) || (typeof Response !== "undefined" && x instanceof Response) ||
    (typeof ReadableStream !== "undefined" && x instanceof ReadableStream);
}

/** Node, Deno and Bun read paths with node:fs; browsers and isolates take URLs. */
export function hasFileSystem(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}
