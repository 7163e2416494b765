import CRC32 from 'crc-32';
import CRC32C from 'crc-32/crc32c.js';
import { zlib, zlibIfLoaded } from '../lazy-zlib.js';
import { hex32 } from './le.js';

/**
 * zlib's own CRC-32 (Node >= 20.15) runs 3-4x faster than the JavaScript table, so large arrays
 * go to zlib, and so does anything of a few KiB once zlib is loaded anyway (a scan loads it up
 * front). A single check of a usual 16 KiB array stays with crc-32, which spares it loading zlib
 * at all (~2 ms). Both compute the same IEEE CRC.
 */
const LOAD_ZLIB_FROM = 256 * 1024;
const ZLIB_IF_LOADED_FROM = 4096;

type ZlibCrc = { crc32?: (data: Uint8Array) => number };

/** CRC-32 (IEEE 802.3, as GPT uses it) of `bytes`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  const lib = bytes.length >= LOAD_ZLIB_FROM ? zlib() : bytes.length >= ZLIB_IF_LOADED_FROM ? zlibIfLoaded() : undefined;
  const native = (lib as ZlibCrc | undefined)?.crc32;
  return native ? native(bytes) >>> 0 : CRC32.buf(bytes) >>> 0;
}

/** Formats a CRC the way the JSON contract shows it: 0x + 8 uppercase hex digits. */
export const formatCrc = hex32;

/** CRC-32C (Castagnoli), as VHDX checksums its headers, region tables and log entries. */
export function crc32c(bytes: Uint8Array): number {
  return CRC32C.buf(bytes) >>> 0;
}
