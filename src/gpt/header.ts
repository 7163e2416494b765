import { crc32 } from './crc32.js';
import { decodeGuid, encodeGuid } from './guid.js';
import { isAllZero, put32, put64, u32, u64 } from './le.js';

/** "EFI PART" */
export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION_1_0 = 0x00010000;
export const MIN_HEADER_SIZE = 92;
/** UEFI 2.10 §5.3.2: at least this much space is reserved for the partition entry array. */
export const MIN_ARRAY_BYTES = 16_384;

/** Every field of a GPT header exactly as stored, plus what we computed from the bytes. */
export interface GptHeader {
  signature: string;
  revision: number;
  headerSize: number;
  headerCrc32: number;
  reserved: number;
  myLba: number;
  alternateLba: number;
  firstUsableLba: number;
  lastUsableLba: number;
  diskGuid: string;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc32: number;
  /** CRC over headerSize bytes with the CRC field zeroed (over 92 when headerSize is out of range). */
  computedHeaderCrc32: number;
  /** Bytes after headerSize up to the sector end are zero, as the spec requires. */
  reservedTailZero: boolean;
  /** The whole sector the header was read from; encodeHeader() starts from it so unknown bytes survive. */
  raw: Uint8Array;
}

/** Decodes a header sector. Never throws: a short or garbage sector decodes to what is there. */
export function decodeHeader(sector: Uint8Array): GptHeader {
  const headerSize = u32(sector, 12);
  return {
    signature: String.fromCharCode(...sector.subarray(0, 8)),
    revision: u32(sector, 8),
    headerSize,
    headerCrc32: u32(sector, 16),
    reserved: u32(sector, 20),
    myLba: u64(sector, 24),
    alternateLba: u64(sector, 32),
    firstUsableLba: u64(sector, 40),
    lastUsableLba: u64(sector, 48),
    diskGuid: decodeGuid(sector, 56),
    entriesLba: u64(sector, 72),
    entryCount: u32(sector, 80),
    entrySize: u32(sector, 84),
    entriesCrc32: u32(sector, 88),
    computedHeaderCrc32: computeHeaderCrc(sector),
    reservedTailZero: isAllZero(sector, Math.min(Math.max(headerSize, MIN_HEADER_SIZE), sector.length)),
    raw: sector,
  };
}

/** The number of bytes the header CRC covers: headerSize when it is legal for this sector, else 92. */
export function crcSpan(headerSize: number, sectorLength: number): number {
  return headerSize >= MIN_HEADER_SIZE && headerSize <= sectorLength ? headerSize : MIN_HEADER_SIZE;
}

export function computeHeaderCrc(sector: Uint8Array): number {
  const span = crcSpan(u32(sector, 12), sector.length);
  const copy = new Uint8Array(span);
  copy.set(sector.subarray(0, span));
  put32(copy, 16, 0);
  return crc32(copy);
}

/** Header fields a writer sets; everything else (reserved bytes, tail) comes from `base`. */
export type HeaderFields = Omit<GptHeader, 'computedHeaderCrc32' | 'reservedTailZero' | 'raw' | 'headerCrc32'>;

/**
 * Encodes header fields into a copy of `base` (the sector the header came from, or zeros)
 * and stores a fresh header CRC. Round-trips byte for byte: decode → encode gives the same sector
 * when no field changed and the stored CRC was right.
 */
export function encodeHeader(fields: HeaderFields, base: Uint8Array): Uint8Array {
  const s = new Uint8Array(base);
  for (let i = 0; i < 8; i++) s[i] = fields.signature.charCodeAt(i) & 0xff;
  put32(s, 8, fields.revision);
  put32(s, 12, fields.headerSize);
  put32(s, 20, fields.reserved);
  put64(s, 24, fields.myLba);
  put64(s, 32, fields.alternateLba);
  put64(s, 40, fields.firstUsableLba);
  put64(s, 48, fields.lastUsableLba);
  encodeGuid(fields.diskGuid, s, 56);
  put64(s, 72, fields.entriesLba);
  put32(s, 80, fields.entryCount);
  put32(s, 84, fields.entrySize);
  put32(s, 88, fields.entriesCrc32);
  put32(s, 16, computeHeaderCrc(s));
  return s;
}

/** "1.0" for 0x00010000: major in the high 16 bits, minor in the low 16. */
export function formatRevision(revision: number): string {
  return `${Math.floor(revision / 0x10000)}.${revision & 0xffff}`;
}

/** Entry sizes the spec allows: 128 × 2^n. */
export function isLegalEntrySize(size: number): boolean {
  return size >= 128 && Number.isInteger(Math.log2(size / 128)) && size % 128 === 0;
}

/** Sectors an entry array occupies. */
export function arraySectors(entryCount: number, entrySize: number, sectorSize: number): number {
  return Math.ceil((entryCount * entrySize) / sectorSize);
}
