import { setTimeout as sleep } from 'node:timers/promises';
import { DiskError } from './block-source.js';

/**
 * Retries of a disk read over HTTP(S): a reset connection, a timeout or a 5xx is tried again with
 * exponential backoff, a few times, and then ends in one EIO line. Everything else (a 404, a
 * changed object, a server that ignores ranges) fails at once: trying again cannot help.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  tries: number;
  /** The wait before the second attempt; it doubles before each further one. */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { tries: 4, baseDelayMs: 250 };

/** A failure worth another attempt, with its reason in a few words ("the connection was reset"). */
export class TransientError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TransientError';
  }
}

/** The wait before attempt `attempt` (2, 3, …): base, 2·base, 4·base… */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return policy.baseDelayMs * 2 ** Math.max(0, attempt - 2);
}

/**
 * Runs `attempt` until it succeeds, throws something other than a TransientError, or has failed
 * `policy.tries` times; then EIO saying `what` could not be read, and why the last try failed.
 */
export async function withRetries<T>(policy: RetryPolicy, what: string, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      await afterFailure(policy, what, err, n);
    }
  }
}

/**
 * After failed attempt `n`: rethrows what is not transient, gives up with EIO after the last
 * try, and otherwise waits the backoff before the next one.
 */
export async function afterFailure(policy: RetryPolicy, what: string, err: unknown, n: number): Promise<void> {
  if (!(err instanceof TransientError)) throw err;
  if (n >= policy.tries) throw new DiskError('EIO', `cannot read ${what}: ${err.reason} (${policy.tries} ${policy.tries === 1 ? 'try' : 'tries'})`);
  await sleep(backoffDelay(policy, n + 1));
}

/** System and undici error codes of a connection that failed in a way another attempt may fix. */
const TRANSIENT_CODES: Record<string, string> = {
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ECONNREFUSED: 'the connection was refused',
  ETIMEDOUT: 'the connection timed out',
  EAI_AGAIN: 'the host name could not be resolved for now',
  ENETUNREACH: 'the network is unreachable',
  EHOSTUNREACH: 'the host is unreachable',
  UND_ERR_SOCKET: 'the server closed the connection',
  UND_ERR_CLOSED: 'the connection was closed',
  UND_ERR_CONNECT_TIMEOUT: 'connecting timed out',
  UND_ERR_HEADERS_TIMEOUT: 'the response headers timed out',
  UND_ERR_BODY_TIMEOUT: 'the response body timed out',
};

/** Codes that say plainly what is wrong, where another attempt cannot help. */
const FINAL_CODES: Record<string, string> = {
  ENOTFOUND: 'the host name does not resolve',
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed (set NODE_EXTRA_CA_CERTS to trust it)",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's TLS certificate chain is self-signed (set NODE_EXTRA_CA_CERTS to trust it)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate cannot be verified (set NODE_EXTRA_CA_CERTS to trust its issuer)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's TLS certificate cannot be verified (set NODE_EXTRA_CA_CERTS to trust its issuer)",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate is for another host name",
};

/**
 * What a fetch or body-read failure was: a TransientError to retry, or an EIO DiskError with
 * its reason. fetch wraps the cause ("TypeError: fetch failed" / "terminated"), and its own texts
 * may quote the URL, so only codes are looked at and only our words are shown.
 */
export function networkFailure(err: unknown, what: string): TransientError | DiskError {
  const codes: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  for (const code of codes) if (TRANSIENT_CODES[code]) return new TransientError(TRANSIENT_CODES[code]!);
  for (const code of codes) if (FINAL_CODES[code]) return new DiskError('EIO', `cannot read ${what}: ${FINAL_CODES[code]}`);
  // A body cut short without a code ("terminated") is a dropped connection too.
  if (err instanceof TypeError) return new TransientError(codes.length ? `the connection failed (${codes[0]})` : 'the connection failed');
  return new DiskError('EIO', `cannot read ${what}: ${codes[0] ?? 'the request failed'}`);
}
