import { DiskError } from './block-source.js';
import {
  changedWhileReading,
  conditionalHeaders,
  isRetryableStatus,
  parseContentRange,
  rangesIgnoredError,
  statusError,
  unsatisfiedRangeTotal,
  validatorOf,
  versionChange,
  type ContentRange,
  type Validator,
} from './http-response.js';
import { DEFAULT_RETRY, TransientError, afterFailure, networkFailure, withRetries, type RetryPolicy } from './http-retry.js';

/**
 * Single-range GETs of one object over HTTP(S), through Node's fetch: the request side of a disk
 * read over HTTP. It pins the object's version (ETag, else Last-Modified, and its size) from the
 * first response and refuses any later response of another version (ECHANGED); it abandons a
 * request that receives nothing for `timeoutMs`, and tries reset, timed-out and 5xx requests
 * again (http-retry.ts). A transfer cut short resumes where it stopped. It counts requests and
 * body bytes: what a disk read over a network costs.
 */

export interface HttpOptions {
  /** A request that receives nothing (no headers, no body bytes) for this long is abandoned and tried again. */
  timeoutMs?: number;
  retry?: RetryPolicy;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** What the first response told of the object. */
export interface FirstResponse {
  size: number;
  /** The object's first bytes, as many as asked for (fewer when it is smaller). */
  head: Uint8Array;
}

export class HttpClient {
  /** Requests sent (GET and HEAD), retries included. */
  requests = 0;
  /** Response body bytes received. */
  bytesTransferred = 0;
  private pinned: Validator | undefined;
  private size: number | undefined;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  private constructor(
    private readonly url: string,
    private readonly authorization: string | undefined,
    /** The URL without its query or userinfo: all that any message shows. */
    readonly path: string,
    options: HttpOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /**
   * fetch refuses a URL with userinfo, so `https://user:pass@host/disk.img` is sent as the URL
   * without it and an Authorization: Basic header.
   */
  static create(url: string, path: string, options: HttpOptions = {}): HttpClient {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DiskError('EINVAL', `${path} is not a valid URL`);
    }
    let authorization: string | undefined;
    if (parsed.username || parsed.password) {
      authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    parsed.hash = '';
    return new HttpClient(parsed.href, authorization, path, options);
  }

  /**
   * The first request: bytes [0, length) and the object's size, from the 206's Content-Range (a
   * HEAD only when that gives no total). Its ETag or Last-Modified is pinned from here on.
   */
  async open(length: number): Promise<FirstResponse> {
    const first = await withRetries(this.retry, this.path, async () => {
      const exchange = await this.send('GET', 0, length);
      const { status, headers } = exchange.response;
      if (status === 416 && unsatisfiedRangeTotal(headers.get('content-range')) === 0) {
        await exchange.discard();
        return { total: 0, head: new Uint8Array(0), headers }; // an empty object
      }
      // A server may answer a range that covers all of a small object with the whole object.
      const declared = Number(headers.get('content-length') ?? NaN);
      if (status === 200 && Number.isSafeInteger(declared) && declared <= length) {
        return { total: declared, head: await this.collect(exchange, 0, declared), headers };
      }
      const range = await this.rangeOf(exchange, 0, length, true);
      return { total: range.total, head: await this.collect(exchange, 0, range.end), headers };
    });
    this.pinned = validatorOf(first.headers);
    const size = first.total ?? (await this.sizeFromHead());
    if (first.head.length < Math.min(length, size)) throw new DiskError('EIO', `${this.path}: the server sent ${first.head.length} bytes of a ${size}-byte object when asked for the first ${length}`);
    this.size = size;
    return { size, head: first.head };
  }

  /** Exactly the bytes [start, end) of the object. */
  async get(start: number, end: number): Promise<Uint8Array> {
    const out = new Uint8Array(end - start);
    let at = start;
    for await (const chunk of this.stream(start, end)) {
      out.set(chunk, at - start);
      at += chunk.length;
    }
    return out;
  }

  /**
   * The bytes [start, end) front to back, in one request unless the connection drops: then the
   * rest is asked for again after a backoff, up to the retry policy's tries without progress.
   */
  async *stream(start: number, end: number): AsyncGenerator<Uint8Array> {
    let at = start;
    for (let failures = 0; at < end; ) {
      try {
        const exchange = await this.send('GET', at, end);
        await this.rangeOf(exchange, at, end, false);
        for await (const chunk of exchange.chunks(end - at)) {
          at += chunk.length;
          failures = 0;
          yield chunk;
        }
        if (at < end) throw new TransientError('the response ended early');
      } catch (err) {
        await afterFailure(this.retry, this.path, err, ++failures);
      }
    }
  }

  /** Sends one request: a GET of bytes [start, end), or a HEAD. */
  private async send(method: 'GET' | 'HEAD', start: number, end: number): Promise<Exchange> {
    this.requests++;
    const deadline = new Deadline(this.timeoutMs);
    const headers: Record<string, string> = {
      // The range is of the stored bytes: a compressed transfer would be a range of something else.
      'Accept-Encoding': 'identity',
      ...(method === 'GET' ? { Range: `bytes=${start}-${end - 1}` } : {}),
      ...conditionalHeaders(this.pinned),
      ...(this.authorization ? { Authorization: this.authorization } : {}),
    };
    try {
      const response = await fetch(this.url, { method, headers, redirect: 'follow', signal: deadline.signal });
      deadline.arm();
      return new Exchange(this.path, response, deadline, (err) => this.failure(err, deadline), (n) => void (this.bytesTransferred += n));
    } catch (err) {
      deadline.stop();
      throw this.failure(err, deadline);
    }
  }

  /**
   * The byte range a response carries, after judging it: a 206 of the pinned version and of the
   * range asked for (or, `shorter`, of its start up to the end of a smaller object). Anything
   * else is refused, its body cancelled, never read.
   */
  private async rangeOf(exchange: Exchange, start: number, end: number, shorter: boolean): Promise<ContentRange> {
    const { status, statusText, headers } = exchange.response;
    const asked = `${start}-${end - 1}`;
    const refuse = async (err: Error): Promise<never> => {
      await exchange.discard();
      throw err;
    };
    if (status === 200) return refuse(rangesIgnoredError(this.path));
    if (status === 416) {
      const total = unsatisfiedRangeTotal(headers.get('content-range'));
      if (total !== undefined && this.size !== undefined && total !== this.size) return refuse(changedWhileReading(this.path, `its size was ${this.size} bytes, now ${total}`));
      return refuse(new DiskError('EIO', `${this.path}: the server refused bytes ${asked} (HTTP 416 Range Not Satisfiable)${this.size !== undefined ? ` of what was a ${this.size}-byte object` : ''}`));
    }
    if (isRetryableStatus(status)) return refuse(new TransientError(`the server answered HTTP ${status}${statusText ? ` ${statusText}` : ''}`));
    if (status !== 206) return refuse(statusError(this.path, status, statusText));
    const range = parseContentRange(headers.get('content-range'));
    const encoding = headers.get('content-encoding');
    if (!range) return refuse(new DiskError('EIO', `${this.path}: the server's 206 answer has no usable Content-Range`));
    if (encoding && encoding.toLowerCase() !== 'identity') return refuse(new DiskError('EIO', `${this.path}: the server sent the range encoded (Content-Encoding: ${encoding})`));
    const changed = (this.pinned && versionChange(this.pinned, headers)) || this.sizeChange(range.total);
    if (changed) return refuse(changedWhileReading(this.path, changed));
    const endOk = range.end === end || (shorter && range.end < end && (range.total === undefined || range.end === range.total));
    if (range.start !== start || !endOk) {
      return refuse(new DiskError('EIO', `${this.path}: the server sent bytes ${range.start}-${range.end - 1} when asked for ${asked}`));
    }
    return range;
  }

  private sizeChange(total: number | undefined): string | undefined {
    return total !== undefined && this.size !== undefined && total !== this.size ? `its size was ${this.size} bytes, now ${total}` : undefined;
  }

  /** The whole body of the first response, which must be `length` bytes. */
  private async collect(exchange: Exchange, start: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let at = 0;
    for await (const chunk of exchange.chunks(length)) {
      out.set(chunk, at);
      at += chunk.length;
    }
    if (at < length) throw new TransientError(`the response ended early (at byte ${start + at})`);
    return out;
  }

  /** The object's size from a HEAD, for a server whose 206 says `bytes a-b/*`. */
  private async sizeFromHead(): Promise<number> {
    const headers = await withRetries(this.retry, this.path, async () => {
      const exchange = await this.send('HEAD', 0, 0);
      await exchange.discard();
      const { status, statusText, headers } = exchange.response;
      if (isRetryableStatus(status)) throw new TransientError(`the server answered HTTP ${status} to a HEAD`);
      if (status < 200 || status > 299) throw statusError(this.path, status, statusText);
      return headers;
    });
    const changed = this.pinned && versionChange(this.pinned, headers);
    if (changed) throw changedWhileReading(this.path, changed);
    const size = Number(headers.get('content-length') ?? NaN);
    if (!Number.isSafeInteger(size) || size < 0) throw new DiskError('ENOTSUP', `${this.path}: the server does not say how big the object is (no total in its Content-Range, no Content-Length)`);
    return size;
  }

  private failure(err: unknown, deadline: Deadline): Error {
    if (err instanceof DiskError || err instanceof TransientError) return err;
    if (deadline.expired) return new TransientError(`nothing arrived for ${formatSeconds(this.timeoutMs)}`);
    return networkFailure(err, this.path);
  }
}

/** One response being read: its body, and the deadline that guards it until it is read or dropped. */
class Exchange {
  constructor(
    private readonly path: string,
    readonly response: Response,
    private readonly deadline: Deadline,
    private readonly failure: (err: unknown) => Error,
    private readonly counted: (bytes: number) => void,
  ) {}

  /** Drops the body without reading it: the connection is closed, not drained. */
  async discard(): Promise<void> {
    this.deadline.stop();
    await this.response.body?.cancel().catch(() => undefined);
  }

  /** The body's chunks, at most `limit` bytes of them; each chunk re-arms the deadline. */
  async *chunks(limit: number): AsyncGenerator<Uint8Array> {
    const reader = this.response.body?.getReader();
    if (!reader) return this.deadline.stop();
    let received = 0;
    try {
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (err) {
          throw this.failure(err);
        }
        if (next.done) return;
        this.deadline.arm();
        this.counted(next.value.length);
        received += next.value.length;
        if (received > limit) throw new DiskError('EIO', `${this.path}: the server sent more bytes than its Content-Range says`);
        yield next.value;
      }
    } finally {
      this.deadline.stop();
      await reader.cancel().catch(() => undefined);
    }
  }
}

/**
 * The inactivity deadline of one request: it aborts the request when nothing has arrived for
 * `ms`, and is re-armed by the headers and by each body chunk, so a long transfer that keeps
 * moving is never cut and a stalled one is.
 */
class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  expired = false;

  constructor(private readonly ms: number) {
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  arm(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, this.ms);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
