import { createRequire } from 'node:module';

let crypto: typeof import('node:crypto') | undefined;

/**
 * SHA-256 of `bytes` as lowercase hex: the one hash of evidence, undo journals and downloads.
 * node:crypto is loaded on first use, so commands that hash nothing (a plain check) do not pay
 * for it at start-up.
 */
export function sha256Hex(bytes: Uint8Array): string {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return crypto.createHash('sha256').update(bytes).digest('hex');
}
