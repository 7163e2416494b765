import CRC32 from 'crc-32';
import CRC32C from 'crc-32/crc32c.js';
import { zlib } from '../lazy-zlib.js';

/**
 * zlib's own CRC-32 (Node >= 20.15) runs 3-4x faster than the JavaScript table on the 4 MiB
 * arrays of large tables, so those go to zlib; the usual 16 KiB arrays and headers stay with
 * crc-32, which spares a check loading zlib at all. Both compute the same IEEE CRC.
 */
const NATIVE_FROM = 256 * 1024;

/** CRC-32 (IEEE 802.3, as GPT uses it) of `bytes`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  const native = bytes.length >= NATIVE_FROM ? (zlib() as { crc32?: (data: Uint8Array) => number }).crc32 : undefined;
  return native ? native(bytes) >>> 0 : CRC32.buf(bytes) >>> 0;
}

/** Formats a CRC the way the JSON contract shows it: 0x + 8 uppercase hex digits. */
export function formatCrc(value: number): string {
  return '0x' + (value >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** CRC-32C (Castagnoli), as VHDX checksums its headers, region tables and log entries. */
export function crc32c(bytes: Uint8Array): number {
  return CRC32C.buf(bytes) >>> 0;
}
