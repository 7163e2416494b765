import { DiskError, type ReadableDisk, type SourceFormat } from './block-source.js';
import { ReadCache, DEFAULT_CACHE_POLICY, HEAD_BYTES, type CachePolicy } from './read-cache.js';
import { HttpClient, DEFAULT_TIMEOUT_MS, type HttpOptions } from './http-client.js';
import { DEFAULT_RETRY } from './http-retry.js';
import { redactUrl } from './url-redact.js';

/**
 * An object on an HTTP(S) server (a static file, an S3 presigned URL, an Azure blob SAS URL) as a
 * readable file: single-range GETs (http-client.ts) behind a read cache (read-cache.ts). Its
 * `path` is the URL without query or userinfo, so no signature is ever shown. It never writes.
 * open.ts reads containers and compressed images through it as through a local file.
 */


/** Bytes per request when a compressed image is streamed whole into its decompressor. */
const STREAM_REQUEST_BYTES = 256 * 1024 * 1024;

export class HttpSource implements ReadableDisk {
  readonly format: SourceFormat = 'raw';
  readonly writable = false;
  readonly readOnlyReason = 'it is read over HTTP(S)';
  private read_ = 0;

  private constructor(
    private readonly client: HttpClient,
    private readonly cache: ReadCache,
  ) {}

  /** Opens `url` with one request, which also fills the cache with the object's first bytes. */
  static async open(url: string, options: HttpOptions = {}, policy: CachePolicy = DEFAULT_CACHE_POLICY): Promise<HttpSource> {
    const client = HttpClient.create(url, redactUrl(url), options);
    const { size, head } = await client.open(HEAD_BYTES);
    const cache = new ReadCache(size, (start, end) => client.get(start, end), policy);
    cache.fill(0, head);
    return new HttpSource(client, cache);
  }

  get path(): string {
    return this.client.path;
  }
  get size(): number {
    return this.cache.size;
  }
  get bytesRead(): number {
    return this.read_;
  }
  /** Requests sent so far, the first one and retries included. */
  get requests(): number {
    return this.client.requests;
  }
  /** Response body bytes received so far. */
  get bytesTransferred(): number {
    return this.client.bytesTransferred;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const bytes = await this.cache.read(offset, length);
    this.read_ += bytes.length;
    return bytes;
  }

  /** The whole object front to back, in few large requests (a compressed image's decompression). */
  async *stream(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < this.size; at += STREAM_REQUEST_BYTES) {
      for await (const chunk of this.client.stream(at, Math.min(this.size, at + STREAM_REQUEST_BYTES))) {
        this.read_ += chunk.length;
        yield chunk;
      }
    }
  }

  async dataRanges(): Promise<Array<[number, number]>> {
    return this.size ? [[0, this.size]] : [];
  }

  async close(): Promise<void> {}
}

/**
 * The request timeout and retries of HTTP(S) disks: the options given, else the environment
 * (GPTDOCTOR_HTTP_TIMEOUT_MS, GPTDOCTOR_HTTP_TRIES, GPTDOCTOR_HTTP_RETRY_DELAY_MS), else 30 s
 * and 4 tries from 250 ms apart. Tests shorten them; a slow link may lengthen the timeout.
 */
export function httpOptions(given: HttpOptions = {}, env: NodeJS.ProcessEnv = process.env): HttpOptions {
  const number = (name: string, fallback: number, min: number): number => {
    const text = env[name];
    if (text === undefined || text === '') return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new DiskError('EINVAL', `${name} must be a whole number from ${min} (got ${text})`);
    return value;
  };
  return {
    timeoutMs: given.timeoutMs ?? number('GPTDOCTOR_HTTP_TIMEOUT_MS', DEFAULT_TIMEOUT_MS, 1),
    retry: given.retry ?? {
      tries: number('GPTDOCTOR_HTTP_TRIES', DEFAULT_RETRY.tries, 1),
      baseDelayMs: number('GPTDOCTOR_HTTP_RETRY_DELAY_MS', DEFAULT_RETRY.baseDelayMs, 0),
    },
  };
}
