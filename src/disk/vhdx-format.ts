import { sameBytes } from '../bytes.js';
import { crc32c } from '../gpt/crc32.js';
import { decodeGuid } from '../gpt/guid.js';
import { DiskError, type ReadableDisk } from './block-source.js';
import { metadataItemsProblem, regionTableProblem, type MetadataEntry, type RegionEntry } from './vhdx-rules.js';

/**
 * The VHDX format, decoded ([MS-VHDX] §2): headers and their checksum, the region table, the
 * metadata items (block size, virtual size, sector sizes, parent locator) and the identity a
 * differencing child demands of its parent. vhdx.ts is the BlockSource built on these.
 */

/** What the parsers need of the file: reads (through the replayed log, when there is one). */
export type Reader = Pick<ReadableDisk, 'read' | 'path' | 'size'>;

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const REGION_BAT = '2DC27766-F623-4200-9D64-115E9BFD4A08';
export const REGION_METADATA = '8B7CA206-4790-4B9A-B8FE-575F050F886E';
export const ITEM = {
  FILE_PARAMETERS: 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B',
  VIRTUAL_DISK_SIZE: '2FA54224-CD1B-4876-B211-5DBED83BF4B8',
  VIRTUAL_DISK_ID: 'BECA12AB-B2E6-4523-93EF-C309E000C746',
  LOGICAL_SECTOR_SIZE: '8141BF1D-A96F-4709-BA47-F233A8FAAB5F',
  PHYSICAL_SECTOR_SIZE: 'CDA348C7-445D-4471-9CC9-E9885251C556',
  PARENT_LOCATOR: 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C',
} as const;
export const KNOWN_ITEMS = new Set<string>(Object.values(ITEM));
/** LocatorType of a VHDX parent locator ([MS-VHDX] §2.6.2.6). */
export const VHDX_PARENT_LOCATOR = 'B04AEFB7-D19E-4A81-B789-25B8E9445913';
/** Sector-bitmap block state: present. */
export const SB_PRESENT = 6;

/** Payload block states ([MS-VHDX] §2.5.1.1). */
export const BLOCK = { NOT_PRESENT: 0, UNDEFINED: 1, ZERO: 2, UNMAPPED: 3, FULLY_PRESENT: 6, PARTIALLY_PRESENT: 7 } as const;

export interface VhdxHeader {
  slot: 1 | 2;
  valid: boolean;
  sequenceNumber: bigint;
  fileWriteGuid: string;
  dataWriteGuid: string;
  logGuid: string;
  logVersion: number;
  version: number;
  logLength: number;
  logOffset: number;
  raw: Uint8Array;
}

export const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** CRC-32C of `bytes` with the 4-byte checksum at offset 4 taken as zero, as every VHDX structure stores it. */
export function vhdxChecksum(bytes: Uint8Array): number {
  const copy = bytes.slice();
  copy.fill(0, 4, 8);
  return crc32c(copy);
}

export function decodeVhdxHeader(read: Uint8Array, slot: 1 | 2): VhdxHeader {
  // A short read (truncated file) decodes as zeros past its end, and so as invalid.
  const raw = read.length >= 4096 ? read : new Uint8Array(4096);
  if (read.length < 4096) raw.set(read);
  const v = view(raw);
  const version = v.getUint16(66, true);
  return {
    slot,
    valid: read.length >= 4096 && String.fromCharCode(...raw.subarray(0, 4)) === 'head' && v.getUint32(4, true) === vhdxChecksum(raw) && version === 1,
    sequenceNumber: v.getBigUint64(8, true),
    fileWriteGuid: decodeGuid(raw, 16),
    dataWriteGuid: decodeGuid(raw, 32),
    logGuid: decodeGuid(raw, 48),
    logVersion: v.getUint16(64, true),
    version,
    logLength: v.getUint32(68, true),
    logOffset: Number(v.getBigUint64(72, true)),
    raw,
  };
}

/** The current header: the only valid one, or the valid one with the higher sequence number. */
export function currentHeader(h1: VhdxHeader, h2: VhdxHeader): VhdxHeader | undefined {
  if (h1.valid && h2.valid) {
    if (h1.sequenceNumber === h2.sequenceNumber) return sameBytes(h1.raw, h2.raw) ? h1 : undefined; // Disk2VHD writes identical twins
    return h1.sequenceNumber > h2.sequenceNumber ? h1 : h2;
  }
  return h1.valid ? h1 : h2.valid ? h2 : undefined;
}


export interface Geometry {
  blockSize: number;
  hasParent: boolean;
  virtualSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  chunkRatio: number;
  /** Key/value pairs of a differencing disk's parent locator. */
  parentLocator?: Map<string, string>;
}

export async function regionTable(file: Reader, at: number, log: { offset: number; length: number }): Promise<Map<string, { offset: number; length: number }> | undefined> {
  const t = await file.read(at, 64 * KiB);
  if (t.length < 64 * KiB || String.fromCharCode(...t.subarray(0, 4)) !== 'regi' || view(t).getUint32(4, true) !== vhdxChecksum(t)) return undefined;
  const count = view(t).getUint32(8, true);
  if (count > 2047) return undefined;
  const entries: RegionEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = 16 + i * 32;
    const guid = decodeGuid(t, e);
    const required = view(t).getUint32(e + 28, true) & 1;
    if (required && guid !== REGION_BAT && guid !== REGION_METADATA) {
      throw new DiskError('EFORMAT', `${file.path}: the VHDX requires a region gptdoctor does not know (${guid})`);
    }
    entries.push({ guid, offset: Number(view(t).getBigUint64(e + 16, true)), length: view(t).getUint32(e + 24, true) });
  }
  // The rules see every entry as stored, so a region listed twice is caught there, once.
  const problem = regionTableProblem(entries, log);
  if (problem) throw new DiskError('EFORMAT', `${file.path}: the VHDX region table is invalid: ${problem}`);
  return new Map(entries.map(({ guid, offset, length }) => [guid, { offset, length }]));
}

export async function readMetadata(file: Reader, offset: number, length: number, fail: (why: string) => never): Promise<Geometry> {
  const table = await file.read(offset, 64 * KiB);
  if (table.length < 64 * KiB || String.fromCharCode(...table.subarray(0, 8)) !== 'metadata') fail('no VHDX metadata table');
  const count = view(table).getUint16(10, true);
  if (count > 2047) fail('the VHDX metadata table is damaged');
  const entries: MetadataEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = 32 + i * 32;
    const id = decodeGuid(table, e);
    const itemOffset = view(table).getUint32(e + 16, true);
    const itemLength = view(table).getUint32(e + 20, true);
    const required = view(table).getUint32(e + 24, true) & 4;
    if (required && !KNOWN_ITEMS.has(id)) fail(`the VHDX requires a metadata item gptdoctor does not know (${id})`);
    if (itemOffset + itemLength > length || itemLength > MiB) fail('a VHDX metadata item lies outside its region');
    entries.push({ id, offset: itemOffset, length: itemLength });
  }
  const problem = metadataItemsProblem(entries, length);
  if (problem) fail(`the VHDX metadata table is invalid: ${problem}`);
  const items = new Map<string, Uint8Array>();
  for (const e of entries) items.set(e.id, await file.read(offset + e.offset, e.length));
  const need = (id: string, name: string, bytes: number): DataView => {
    const item = items.get(id);
    if (!item || item.length < bytes) fail(`the VHDX lacks its ${name} metadata`);
    return view(item!);
  };
  const params = need(ITEM.FILE_PARAMETERS, 'file parameters', 8);
  const blockSize = params.getUint32(0, true);
  const hasParent = (params.getUint32(4, true) & 2) !== 0;
  const virtualSize = Number(need(ITEM.VIRTUAL_DISK_SIZE, 'virtual disk size', 8).getBigUint64(0, true));
  const logicalSectorSize = need(ITEM.LOGICAL_SECTOR_SIZE, 'logical sector size', 4).getUint32(0, true);
  const physicalSectorSize = need(ITEM.PHYSICAL_SECTOR_SIZE, 'physical sector size', 4).getUint32(0, true);
  if (blockSize < MiB || blockSize > 256 * MiB || (blockSize & (blockSize - 1)) !== 0) fail(`VHDX block size ${blockSize} is not a power of two from 1 to 256 MiB`);
  if (logicalSectorSize !== 512 && logicalSectorSize !== 4096) fail(`VHDX logical sector size ${logicalSectorSize} is not 512 or 4096`);
  if (!Number.isSafeInteger(virtualSize) || virtualSize <= 0 || virtualSize > 64 * 1024 * 1024 * MiB) fail('VHDX virtual size is invalid');
  const chunkRatio = (2 ** 23 * logicalSectorSize) / blockSize;
  const locator = items.get(ITEM.PARENT_LOCATOR);
  const parentLocator = hasParent && locator ? decodeParentLocator(locator, fail) : undefined;
  return { blockSize, hasParent, virtualSize, logicalSectorSize, physicalSectorSize, chunkRatio, ...(parentLocator ? { parentLocator } : {}) };
}

/**
 * The parent locator item: LocatorType GUID, a reserved u16, KeyValueCount u16, then entries of
 * (u32 KeyOffset, u32 ValueOffset, u16 KeyLength, u16 ValueLength), offsets from the item start,
 * keys and values UTF-16LE without terminators.
 */
export function decodeParentLocator(item: Uint8Array, fail: (why: string) => never): Map<string, string> {
  if (item.length < 20) fail('the VHDX parent locator is truncated');
  const type = decodeGuid(item, 0);
  if (type !== VHDX_PARENT_LOCATOR) fail(`the VHDX parent locator has an unknown type ${type}`);
  const count = view(item).getUint16(18, true);
  if (20 + count * 12 > item.length) fail('the VHDX parent locator entries run past the item');
  const utf16 = new TextDecoder('utf-16le');
  const text = (offset: number, length: number): string => {
    if (length === 0 || offset + length > item.length) fail('a VHDX parent locator entry points outside the item');
    return utf16.decode(item.subarray(offset, offset + length));
  };
  const pairs = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const e = 20 + i * 12;
    const v = view(item);
    pairs.set(text(v.getUint32(e, true), v.getUint16(e + 8, true)), text(v.getUint32(e + 4, true), v.getUint16(e + 10, true)));
  }
  return pairs;
}

