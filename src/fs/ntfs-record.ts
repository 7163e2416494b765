import { u16, u32 } from '../gpt/le.js';

/**
 * One MFT record (or INDX block) from its raw bytes: the update-sequence fixups, the FILE header
 * and the attribute walk. Pure and bounded: every length is checked against the record before it
 * is used, and a failure is a reason string, which the caller turns into VolumeUnreadable.
 */

/** Update sequences protect every 512 bytes, whatever the sector size (ntfs-3g's NTFS_BLOCK_SIZE). */
const STRIDE = 512;

/**
 * Checks and undoes the update-sequence fixups in place: the last two bytes of every 512-byte
 * stride must hold the sequence number (else the record was torn by an interrupted write), and
 * get back the bytes the array saved. Returns why it failed, or undefined.
 */
export function applyFixups(b: Uint8Array, signature: string): string | undefined {
  const sig = String.fromCharCode(b[0] ?? 0, b[1] ?? 0, b[2] ?? 0, b[3] ?? 0);
  if (sig === 'BAAD') return 'marked BAAD (a multi-sector transfer failed)';
  if (sig !== signature) return `no ${signature} signature`;
  const usaOffset = u16(b, 4);
  const usaCount = u16(b, 6);
  if (b.length % STRIDE !== 0 || usaCount !== b.length / STRIDE + 1) return `update sequence array of ${usaCount} entries for a ${b.length}-byte structure`;
  if (usaOffset % 2 !== 0 || usaOffset < 0x28 || usaOffset + usaCount * 2 > STRIDE) return `update sequence array at ${usaOffset} does not fit the first 512 bytes`;
  const usn = u16(b, usaOffset);
  for (let i = 1; i < usaCount; i++) {
    const end = i * STRIDE - 2;
    if (u16(b, end) !== usn) return `update sequence number mismatch in 512-byte block ${i - 1} (torn write)`;
    b[end] = b[usaOffset + i * 2]!;
    b[end + 1] = b[usaOffset + i * 2 + 1]!;
  }
  return undefined;
}

/** A 64-bit signed field as a number, or undefined beyond ±2^53 (VCNs are signed; -1 means "none"). */
export function s64(b: Uint8Array, off: number): number | undefined {
  const lo = u32(b, off);
  const hi = u32(b, off + 4);
  const signed = hi >= 0x80000000 ? hi - 0x100000000 : hi;
  if (signed >= 0x200000 || signed < -0x200000) return undefined;
  return signed * 0x100000000 + lo;
}

/** An MFT reference: 48-bit record number and 16-bit sequence number. */
export function mftRef(b: Uint8Array, off: number): { record: number; seq: number } {
  return { record: u32(b, off) + u16(b, off + 4) * 0x100000000, seq: u16(b, off + 6) };
}

/**
 * A copy of b[from, to). Not `slice`: a ByteReader over Node's fs hands out Buffers, whose slice
 * is a view, and fixups are undone in place.
 */
export function copyOf(b: Uint8Array, from = 0, to = b.length): Uint8Array {
  return new Uint8Array(b.subarray(from, to));
}

/** UTF-16LE code units as a string; `chars` is bounded by the caller's checks (≤ 255 in names). */
export function utf16(b: Uint8Array, off: number, chars: number): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += String.fromCharCode(u16(b, off + i * 2));
  return s;
}

export const AT = {
  ATTRIBUTE_LIST: 0x20,
  FILE_NAME: 0x30,
  VOLUME_NAME: 0x60,
  DATA: 0x80,
  INDEX_ROOT: 0x90,
  INDEX_ALLOCATION: 0xa0,
} as const;

const END = 0xffffffff;

interface AttributeBase {
  type: number;
  name: string;
  flags: number;
  instance: number;
}

export interface ResidentAttribute extends AttributeBase {
  resident: true;
  value: Uint8Array;
}

export interface NonResidentAttribute extends AttributeBase {
  resident: false;
  lowestVcn: number;
  /** -1 for an attribute that maps no cluster. */
  highestVcn: number;
  mappingPairs: Uint8Array;
  /** Meaningful in the extent whose lowestVcn is 0 only. */
  allocatedSize: number;
  dataSize: number;
  initializedSize: number;
}

export type Attribute = ResidentAttribute | NonResidentAttribute;

export interface MftRecord {
  inUse: boolean;
  isDirectory: boolean;
  sequence: number;
  /** 0 for a base record; else the record this extension belongs to. */
  baseRecord: number;
  attributes: Attribute[];
}

export type RecordResult = ({ ok: true } & MftRecord) | { ok: false; reason: string };

/** Flags of MFT_RECORD: in use, and holds a directory index ($I30). */
const IN_USE = 0x0001;
const IS_DIRECTORY = 0x0002;

/**
 * Decodes record `number` from its `bytes` (exactly one record's size, a copy of its own: see
 * copyOf, fixups are undone in place). A record that says it is another record means the MFT's map is wrong.
 */
export function decodeRecord(bytes: Uint8Array, number: number): RecordResult {
  const fail = (reason: string): RecordResult => ({ ok: false, reason: `MFT record ${number}: ${reason}` });
  const fixups = applyFixups(bytes, 'FILE');
  if (fixups) return fail(fixups);
  const attrsOffset = u16(bytes, 0x14);
  const flags = u16(bytes, 0x16);
  const bytesInUse = u32(bytes, 0x18);
  if (bytesInUse > bytes.length || bytesInUse < attrsOffset + 4) return fail(`${bytesInUse} bytes in use in a ${bytes.length}-byte record`);
  if (attrsOffset < 0x2a || attrsOffset % 8 !== 0) return fail(`attributes start at ${attrsOffset}`);
  // Since Windows XP the header repeats the record's own number (after the update sequence array's start).
  if (attrsOffset >= 0x30 && u16(bytes, 4) >= 0x30) {
    const own = u32(bytes, 0x2c);
    if (own !== 0 && own !== number % 0x100000000) return fail(`it says it is record ${own}`);
  }
  const attributes: Attribute[] = [];
  // A free record's attributes are leftovers; nothing reads them.
  for (let at = attrsOffset; flags & IN_USE; ) {
    if (at + 4 > bytesInUse) return fail('attributes run past the bytes in use without an end marker');
    const type = u32(bytes, at);
    if (type === END) break;
    const attribute = decodeAttribute(bytes.subarray(at, bytesInUse), type);
    if (typeof attribute === 'string') return fail(`attribute 0x${type.toString(16)} at ${at}: ${attribute}`);
    attributes.push(attribute.attribute);
    at += attribute.length;
  }
  return {
    ok: true,
    inUse: (flags & IN_USE) !== 0,
    isDirectory: (flags & IS_DIRECTORY) !== 0,
    sequence: u16(bytes, 0x10),
    baseRecord: mftRef(bytes, 0x20).record,
    attributes,
  };
}

/** One attribute at the start of `b` (which ends where the record's bytes in use end). */
function decodeAttribute(b: Uint8Array, type: number): { attribute: Attribute; length: number } | string {
  const length = u32(b, 4);
  if (length < 0x18 || length % 8 !== 0 || length > b.length) return `length ${length} does not fit the record`;
  const nonResident = b[8]!;
  const nameLength = b[9]!;
  const nameOffset = u16(b, 10);
  if (nameLength > 0 && nameOffset + nameLength * 2 > length) return 'its name runs past its end';
  const base = { type, name: utf16(b, nameOffset, nameLength), flags: u16(b, 12), instance: u16(b, 14) };
  if (nonResident === 0) {
    const valueLength = u32(b, 0x10);
    const valueOffset = u16(b, 0x14);
    if (valueOffset + valueLength > length) return `resident value of ${valueLength} bytes at ${valueOffset} runs past its end`;
    return { attribute: { ...base, resident: true, value: copyOf(b, valueOffset, valueOffset + valueLength) }, length };
  }
  if (nonResident !== 1) return `non-resident flag ${nonResident}`;
  if (length < 0x40) return `non-resident header of ${length} bytes`;
  const mappingPairsOffset = u16(b, 0x20);
  if (mappingPairsOffset < 0x40 || mappingPairsOffset > length) return `mapping pairs at ${mappingPairsOffset} outside the attribute`;
  const lowestVcn = s64(b, 0x10);
  const highestVcn = s64(b, 0x18);
  if (lowestVcn === undefined || highestVcn === undefined || lowestVcn < 0 || highestVcn < lowestVcn - 1) return `VCN range ${lowestVcn ?? '?'}..${highestVcn ?? '?'}`;
  const sizes = [s64(b, 0x28), s64(b, 0x30), s64(b, 0x38)];
  const [allocatedSize, dataSize, initializedSize] = sizes;
  if (allocatedSize === undefined || dataSize === undefined || initializedSize === undefined || sizes.some((s) => s! < 0)) return 'a size is negative or beyond 2^53 bytes';
  return {
    attribute: { ...base, resident: false, lowestVcn, highestVcn, mappingPairs: copyOf(b, mappingPairsOffset, length), allocatedSize, dataSize, initializedSize },
    length,
  };
}

/** Namespaces of $FILE_NAME: POSIX (case-sensitive), Win32, DOS 8.3, and a Win32 name that is also valid 8.3. */
export const NAMESPACE = { POSIX: 0, WIN32: 1, DOS: 2, WIN32_AND_DOS: 3 } as const;

export interface FileName {
  parent: number;
  parentSeq: number;
  /** Size and attributes as the directory entry last recorded them (may be stale). */
  dataSize: number;
  fileAttributes: number;
  namespace: number;
  name: string;
}

/** A $FILE_NAME value (also the key of a $I30 index entry); undefined when it does not fit `b`. */
export function decodeFileName(b: Uint8Array): FileName | undefined {
  if (b.length < 0x42) return undefined;
  const chars = b[0x40]!;
  if (0x42 + chars * 2 > b.length) return undefined;
  const parent = mftRef(b, 0);
  return { parent: parent.record, parentSeq: parent.seq, dataSize: Math.max(0, s64(b, 0x30) ?? 0), fileAttributes: u32(b, 0x38), namespace: b[0x41]!, name: utf16(b, 0x42, chars) };
}

/** Win32 (or Win32-and-DOS) names first, then POSIX, then a DOS 8.3 alias last. */
export function namePreference(namespace: number): number {
  return namespace === NAMESPACE.WIN32 || namespace === NAMESPACE.WIN32_AND_DOS ? 0 : namespace === NAMESPACE.POSIX ? 1 : 2;
}
