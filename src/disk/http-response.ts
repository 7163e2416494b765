import { DiskError } from './block-source.js';

/**
 * Pure judgement of the HTTP responses a disk read over HTTP(S) gets: the byte range a 206
 * carries, the validator that pins the object's version, and what each refusal means to the
 * user. No I/O here; http-client.ts does the requests.
 */

/** `Content-Range: bytes START-END/TOTAL` (END inclusive; TOTAL undefined for `*`). */
export interface ContentRange {
  start: number;
  /** Exclusive. */
  end: number;
  total: number | undefined;
}

/** Parses a 206's Content-Range; undefined when it is missing or not one byte range. */
export function parseContentRange(value: string | null): ContentRange | undefined {
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (!match) return undefined;
  const start = Number(match[1]);
  const last = Number(match[2]);
  const total = match[3] === '*' ? undefined : Number(match[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last) || last < start) return undefined;
  if (total !== undefined && (!Number.isSafeInteger(total) || last >= total)) return undefined;
  return { start, end: last + 1, total };
}

/** The size a 416 states (`Content-Range: bytes * /TOTAL`), if it states one. */
export function unsatisfiedRangeTotal(value: string | null): number | undefined {
  const match = /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(value ?? '');
  const total = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * What names this version of the object: its ETag, or its Last-Modified date when it has no ETag.
 * The first response's is pinned, and every later response must carry the same one.
 */
export interface Validator {
  kind: 'ETag' | 'Last-Modified';
  value: string;
}

export function validatorOf(headers: Headers): Validator | undefined {
  const etag = headers.get('etag');
  if (etag) return { kind: 'ETag', value: etag };
  const modified = headers.get('last-modified');
  return modified ? { kind: 'Last-Modified', value: modified } : undefined;
}

/**
 * Request headers that make a server refuse (412) a changed object, where it supports them. Only a
 * strong ETag can be sent in If-Match (a weak one never matches it); pinning never depends on it.
 */
export function conditionalHeaders(pinned: Validator | undefined): Record<string, string> {
  if (pinned?.kind === 'ETag' && !pinned.value.startsWith('W/')) return { 'If-Match': pinned.value };
  if (pinned?.kind === 'Last-Modified') return { 'If-Unmodified-Since': pinned.value };
  return {};
}

/**
 * Whether a later response names another version of the object than the pinned one: the same
 * header is compared (a response that adds an ETag to a Last-Modified pin has not changed).
 */
export function versionChange(pinned: Validator, headers: Headers): string | undefined {
  const now = headers.get(pinned.kind);
  if (now === pinned.value) return undefined;
  return `its ${pinned.kind} was ${pinned.value}, now ${now ?? 'none'}`;
}

export function changedWhileReading(path: string, how: string): DiskError {
  return new DiskError('ECHANGED', `${path} changed while it was being checked (${how}): the bytes read would mix two versions of the object, so nothing is reported; check it again`);
}

/** Statuses worth another try: the server (or a proxy) is busy or failed for now. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** The DiskError for a status that is neither a byte range nor worth another try. */
export function statusError(path: string, status: number, statusText: string): DiskError {
  const http = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status === 404 || status === 410) return new DiskError('ENOENT', `${path}: not found (${http})`);
  if (status === 401 || status === 403) {
    return new DiskError('EACCES', `${path}: access denied (${http}): the URL's signature (S3 presigned URL, Azure SAS token) may have expired or not grant read access; make a new URL`);
  }
  if (status === 412) return changedWhileReading(path, `${http}: it no longer matches the version first read`);
  return new DiskError('EIO', `${path}: the server answered ${http} to a byte-range GET`);
}

/** The refusal of a server that answered a Range request with the whole object (200). */
export function rangesIgnoredError(path: string): DiskError {
  return new DiskError(
    'ENOTSUP',
    `${path}: the server ignores byte ranges (it answered 200 with the whole object instead of 206), and gptdoctor reads a disk over HTTP(S) only by ranges; download it first`,
  );
}
