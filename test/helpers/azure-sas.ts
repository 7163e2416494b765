import { createHmac } from 'node:crypto';

/**
 * Shared access signatures for Azurite, made as Azure documents them ("Create an account SAS",
 * "Create a service SAS", version 2020-12-06 and later): HMAC-SHA256 of the string-to-sign with
 * the account key. The key is Azurite's well-known development key, published by Microsoft.
 */
export const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = Buffer.from('Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==', 'base64');
const VERSION = '2021-08-06';
const EXPIRY = '2099-01-01T00:00:00Z';

const sign = (text: string): string => createHmac('sha256', DEV_KEY).update(text, 'utf8').digest('base64');

/** An account SAS for the blob service that may create containers and write blobs (the test's setup). */
export function accountSas(): string {
  const [sp, ss, srt] = ['rwdlac', 'b', 'sco'];
  const toSign = [DEV_ACCOUNT, sp, ss, srt, '', EXPIRY, '', '', VERSION, '', ''].join('\n');
  return new URLSearchParams({ sv: VERSION, ss, srt, sp, se: EXPIRY, sig: sign(toSign) }).toString();
}

/** A service SAS that may only read one blob: what a user is handed to check a disk. */
export function blobReadSas(container: string, blob: string): string {
  const [sp, sr] = ['r', 'b'];
  const resource = `/blob/${DEV_ACCOUNT}/${container}/${blob}`;
  // sp, st, se, resource, si, sip, spr, sv, sr, snapshot time, ses, rscc, rscd, rsce, rscl, rsct
  const toSign = [sp, '', EXPIRY, resource, '', '', '', VERSION, sr, '', '', '', '', '', '', ''].join('\n');
  return new URLSearchParams({ sv: VERSION, sr, sp, se: EXPIRY, sig: sign(toSign) }).toString();
}
