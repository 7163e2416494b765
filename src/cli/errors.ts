import { DiskError } from '../disk/block-source.js';
import { redactUrlsIn } from '../disk/url-redact.js';
import { PlanError } from '../plan/plan.js';

/** Exit codes of every command (docs/ARCHITECTURE.md §4). */
export const EXIT = { OK: 0, FINDINGS: 1, CANNOT_RUN: 2, INTERRUPTED: 130 } as const;

/** A refusal or bad input the user can fix; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  readonly code = 'EINVAL' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Set by `--debug` (or GPTDOCTOR_DEBUG=1): an internal error also prints its stack. */
let debug = Boolean(process.env.GPTDOCTOR_DEBUG);
export function setDebug(on: boolean): void {
  debug = debug || on;
}

/**
 * Prints an error for a person and returns the exit code. Expected errors (DiskError, UsageError,
 * PlanError) print one line with their code; anything else, a RangeError from deep inside
 * included, is a bug in gptdoctor and says so plainly ("internal error (please report)", code
 * EINTERNAL), never disguised as a usage error; its stack only with --debug.
 */
export function reportError(err: unknown, json: boolean): number {
  const expected = err instanceof DiskError || err instanceof UsageError || err instanceof PlanError;
  const code = expected ? err.code : 'EINTERNAL';
  // gptdoctor's own messages show URLs without their queries; this guards any other text (an
  // internal error's) against printing a presigned URL's signature or a SAS token.
  const message = redactUrlsIn(err instanceof Error ? err.message : String(err));
  if (json) {
    process.stdout.write(JSON.stringify({ error: { code, message } }) + '\n');
  }
  process.stderr.write(`gptdoctor: ${expected ? '' : 'internal error (please report): '}${message}\n`);
  if (!expected && debug && err instanceof Error) process.stderr.write(`${redactUrlsIn(err.stack ?? '')}\n`);
  return EXIT.CANNOT_RUN;
}

/** Parses --sector-size. */
export function parseSectorSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (![512, 1024, 2048, 4096].includes(n)) throw new UsageError(`--sector-size must be 512, 1024, 2048 or 4096 (got ${value})`);
  return n;
}
