import { sameBytes } from '../bytes.js';
import { crc32c } from '../gpt/crc32.js';
import { decodeGuid, ZERO_GUID } from '../gpt/guid.js';
import { DiskError, type BlockSource } from './block-source.js';
import { blockSpans } from './block-spans.js';
import { readMixed, type ParentOpener } from './differencing.js';
import type { FileSource } from './file-source.js';
import { overlayReader, replayLog, type LogReplay } from './vhdx-log.js';
import { vhdxDataRanges } from './vhdx-ranges.js';

/** What the parsers need of the file: reads (through the replayed log, when there is one). */
type Reader = Pick<FileSource, 'read' | 'path' | 'size'>;

/**
 * VHDX images, per [MS-VHDX] §2: two 4 KiB headers (the valid one with the higher sequence
 * number is current), two region tables locating the BAT and the metadata, metadata items for
 * block size, virtual size and sector sizes, and a BAT whose payload entries are interleaved with
 * one sector-bitmap entry per chunk. Everything little-endian; checksums are CRC-32C.
 * A differencing VHDX (HasParent) reads NOT_PRESENT blocks from its parent and PARTIALLY_PRESENT
 * ones sector by sector through its chunk's sector bitmap (LSB-first, 1 = in this file); the
 * parent is found through the parent locator and must carry the DataWriteGuid it names.
 */
const KiB = 1024;
const MiB = 1024 * KiB;
const REGION_BAT = '2DC27766-F623-4200-9D64-115E9BFD4A08';
const REGION_METADATA = '8B7CA206-4790-4B9A-B8FE-575F050F886E';
const ITEM = {
  FILE_PARAMETERS: 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B',
  VIRTUAL_DISK_SIZE: '2FA54224-CD1B-4876-B211-5DBED83BF4B8',
  VIRTUAL_DISK_ID: 'BECA12AB-B2E6-4523-93EF-C309E000C746',
  LOGICAL_SECTOR_SIZE: '8141BF1D-A96F-4709-BA47-F233A8FAAB5F',
  PHYSICAL_SECTOR_SIZE: 'CDA348C7-445D-4471-9CC9-E9885251C556',
  PARENT_LOCATOR: 'A8D35F2D-B30B-454D-ABF7-D3D84834AB0C',
} as const;
const KNOWN_ITEMS = new Set<string>(Object.values(ITEM));
/** LocatorType of a VHDX parent locator ([MS-VHDX] §2.6.2.6). */
const VHDX_PARENT_LOCATOR = 'B04AEFB7-D19E-4A81-B789-25B8E9445913';
/** Sector-bitmap block state: present. */
const SB_PRESENT = 6;

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

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

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


interface Geometry {
  blockSize: number;
  hasParent: boolean;
  virtualSize: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  chunkRatio: number;
  /** Key/value pairs of a differencing disk's parent locator. */
  parentLocator?: Map<string, string>;
}

export class VhdxSource implements BlockSource {
  readonly format = 'vhdx' as const;
  private read_ = 0;
  /** Set once the two-step header update of this write session is done. */
  private headersUpdated = false;

  private constructor(
    private readonly file: FileSource,
    /** Reads go through the log replayed in memory, if one was pending. */
    private readonly reader: Reader,
    readonly header: VhdxHeader,
    readonly geometry: Geometry,
    /** BAT entries as [state, fileOffset] pairs, decoded lazily from the raw region. */
    private readonly bat: Uint8Array,
    /** The log replayed at open, when the header named one. */
    readonly replay?: LogReplay,
    /** The parent of a differencing VHDX. */
    private readonly parent?: BlockSource,
  ) {}

  get path(): string {
    return this.file.path;
  }
  get size(): number {
    return this.geometry.virtualSize;
  }
  get declaredSectorSize(): number {
    return this.geometry.logicalSectorSize;
  }
  get physicalSectorSize(): number {
    return this.geometry.physicalSectorSize;
  }
  get bytesRead(): number {
    return this.read_;
  }
  get writable(): boolean {
    return this.file.writable;
  }

  /** Differencing disks only: the parent, and where it was found. */
  get containerInfo(): Record<string, string | number> | undefined {
    return this.parent ? { type: 'differencing', parent: this.parent.path } : undefined;
  }

  /** `openParent` opens a differencing disk's parent from the paths its locator stores. */
  static async open(file: FileSource, openParent?: ParentOpener): Promise<VhdxSource> {
    const fail = (why: string): never => {
      throw new DiskError('EFORMAT', `${file.path}: ${why}`);
    };
    const h1 = decodeVhdxHeader(await file.read(64 * KiB, 4 * KiB), 1);
    const h2 = decodeVhdxHeader(await file.read(128 * KiB, 4 * KiB), 2);
    const header = currentHeader(h1, h2) ?? fail('neither VHDX header is valid (signature, CRC-32C, version)');
    let reader: Reader = file;
    let replay: LogReplay | undefined;
    if (header.logGuid !== ZERO_GUID) {
      // [MS-VHDX] §2.3.3: replay before any other read; a read-only opener replays in memory.
      replay = await replayLog(file, header.logOffset, header.logLength, header.logGuid).catch((err: Error) => fail(`the VHDX log is damaged (${err.message})`));
      if (!replay) fail('the header names a VHDX log (LogGuid is set) but the log holds no valid sequence: the file is corrupt');
      reader = overlayReader(file, replay!);
    }
    const regions = (await regionTable(reader, 192 * KiB)) ?? (await regionTable(reader, 256 * KiB)) ?? fail('neither VHDX region table is valid');
    const batRegion = regions.get(REGION_BAT) ?? fail('no BAT region');
    const metaRegion = regions.get(REGION_METADATA) ?? fail('no metadata region');
    for (const r of [batRegion, metaRegion]) if (r.offset < MiB || r.offset + r.length > reader.size) fail('a VHDX region lies outside the file');
    const geometry = await readMetadata(reader, metaRegion.offset, metaRegion.length, fail);
    const blocks = Math.ceil(geometry.virtualSize / geometry.blockSize);
    // Differencing files also need the sector-bitmap entry that closes the last chunk.
    const entries = geometry.hasParent ? Math.ceil(blocks / geometry.chunkRatio) * (geometry.chunkRatio + 1) : blocks + Math.floor((blocks - 1) / geometry.chunkRatio);
    if (entries * 8 > batRegion.length) fail(`the BAT region (${batRegion.length} bytes) is too small for ${entries} entries`);
    const bat = await reader.read(batRegion.offset, entries * 8);
    if (!geometry.hasParent) return new VhdxSource(file, reader, header, geometry, bat, replay);
    if (!openParent) return fail('this is a differencing VHDX and no way to open its parent was given');
    const locator = geometry.parentLocator ?? fail('this differencing VHDX has no parent locator');
    const parent = await openParent(['relative_path', 'volume_path', 'absolute_win32_path'].map((k) => locator.get(k)).filter((p): p is string => Boolean(p)));
    const problem = parentMismatch(parent, locator, geometry);
    if (problem) {
      await parent.close();
      fail(`${parent.path} is not the parent of this differencing VHDX: ${problem}`);
    }
    return new VhdxSource(file, reader, header, geometry, bat, replay, parent);
  }

  /** State and file offset of the payload block holding virtual block `b`. */
  blockEntry(b: number): { state: number; fileOffset: number } {
    return this.batEntry(b + Math.floor(b / this.geometry.chunkRatio));
  }

  /** The sector-bitmap entry of the chunk holding virtual block `b`: after its chunkRatio payload entries. */
  private bitmapEntry(b: number): { state: number; fileOffset: number } {
    const chunk = Math.floor(b / this.geometry.chunkRatio);
    return this.batEntry(chunk * (this.geometry.chunkRatio + 1) + this.geometry.chunkRatio);
  }

  private batEntry(index: number): { state: number; fileOffset: number } {
    if ((index + 1) * 8 > this.bat.length) return { state: BLOCK.NOT_PRESENT, fileOffset: 0 };
    const lo = view(this.bat).getUint32(index * 8, true);
    const hi = view(this.bat).getUint32(index * 8 + 4, true);
    // Bits 0-2: state; bits 20-63: file offset in MiB.
    return { state: lo & 7, fileOffset: ((lo >>> 20) + hi * 4096) * MiB };
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    const out = new Uint8Array(Math.max(0, end - offset));
    for (const { block, within, at, length: take } of blockSpans(offset, end, this.geometry.blockSize)) {
      const { state, fileOffset } = this.blockEntry(block);
      if (state === BLOCK.FULLY_PRESENT) out.set(await this.reader.read(fileOffset + within, take), at - offset);
      else if (state === BLOCK.NOT_PRESENT && this.parent) out.set(await this.parent.read(at, take), at - offset);
      else if (state === BLOCK.PARTIALLY_PRESENT) {
        if (!this.parent) throw new DiskError('EFORMAT', `${this.path}: block ${block} is PARTIALLY_PRESENT in a non-differencing VHDX (corrupt BAT)`);
        await this.readPartial(out, offset, block, within, take, fileOffset);
      }
      // UNDEFINED, ZERO, UNMAPPED (and NOT_PRESENT without a parent) read as zeros
    }
    this.read_ += out.length;
    return out;
  }

  /** The blocks the BAT says hold data (vhdx-ranges.ts), with the parent's ranges for a differencing disk. */
  dataRanges(): Promise<Array<[number, number]>> {
    return vhdxDataRanges(this.geometry, (b) => this.blockEntry(b), this.reader.size, this.parent);
  }

  /** A PARTIALLY_PRESENT block: the chunk's sector bitmap says, per sector, child (1) or parent (0). */
  private async readPartial(out: Uint8Array, outStart: number, block: number, within: number, take: number, fileOffset: number): Promise<void> {
    const ss = this.geometry.logicalSectorSize;
    const sb = this.bitmapEntry(block);
    if (sb.state !== SB_PRESENT) throw new DiskError('EFORMAT', `${this.path}: block ${block} is PARTIALLY_PRESENT but its chunk has no sector bitmap (corrupt BAT)`);
    // Bit (s mod 8) of byte (s div 8), counting sectors from the start of the chunk.
    const firstSector = (block % this.geometry.chunkRatio) * (this.geometry.blockSize / ss) + Math.floor(within / ss);
    const lastSector = (block % this.geometry.chunkRatio) * (this.geometry.blockSize / ss) + Math.floor((within + take - 1) / ss);
    const byteFrom = firstSector >> 3;
    const bits = await this.reader.read(sb.fileOffset + byteFrom, (lastSector >> 3) - byteFrom + 1);
    const blockFirst = (block % this.geometry.chunkRatio) * (this.geometry.blockSize / ss);
    const present = (s: number): boolean => {
      const chunkSector = blockFirst + s;
      return (((bits[(chunkSector >> 3) - byteFrom] ?? 0) >> (chunkSector & 7)) & 1) === 1;
    };
    const blockStart = block * this.geometry.blockSize;
    await readMixed(out, outStart, { blockStart, within, length: take }, ss, present, (w, n) => this.reader.read(fileOffset + w, n), this.parent!);
  }

  /** File locations of a virtual range; every block it touches must be FULLY_PRESENT. */
  private pieces(offset: number, length: number): { pieces: Array<{ virtual: number; file: number; length: number }>; problem?: string } {
    if (offset < 0 || offset + length > this.size) return { pieces: [], problem: `bytes ${offset}..${offset + length} lie outside the ${this.size}-byte disk` };
    const bs = this.geometry.blockSize;
    const pieces: Array<{ virtual: number; file: number; length: number }> = [];
    for (const { block, within, at, length: take } of blockSpans(offset, offset + length, bs)) {
      const { state, fileOffset } = this.blockEntry(block);
      if (state !== BLOCK.FULLY_PRESENT) {
        const names = ['NOT_PRESENT', 'UNDEFINED', 'ZERO', 'UNMAPPED', 'reserved (4)', 'reserved (5)', 'FULLY_PRESENT', 'PARTIALLY_PRESENT'];
        return { pieces, problem: `VHDX block ${block} is ${names[state]}; gptdoctor writes only into FULLY_PRESENT blocks and never allocates (that needs the VHDX log)` };
      }
      if (fileOffset < MiB || fileOffset + bs > this.reader.size) return { pieces, problem: `VHDX block ${block} points outside the file` };
      pieces.push({ virtual: at, file: fileOffset + within, length: take });
    }
    return { pieces };
  }

  async whyNotWritable(offset: number, length: number): Promise<string | undefined> {
    if (this.replay?.descriptors) {
      const n = this.replay.descriptors;
      return `the VHDX log holds ${n} change${n > 1 ? 's that were' : ' that was'} never applied to the file; attach the disk once in Windows/Hyper-V (or run qemu-img check -r all on a copy) before writing`;
    }
    return this.pieces(offset, length).problem;
  }

  /** Both 4 KiB headers: the only container bytes a gptdoctor write session changes. */
  async containerState(): Promise<Array<{ fileOffset: number; bytes: Uint8Array }>> {
    return [
      { fileOffset: 64 * KiB, bytes: await this.file.read(64 * KiB, 4 * KiB) },
      { fileOffset: 128 * KiB, bytes: await this.file.read(128 * KiB, 4 * KiB) },
    ];
  }

  /**
   * [MS-VHDX] §2.2.2.1: before the first change, write a header with sequence + 1 and fresh
   * FileWriteGuid/DataWriteGuid into the non-current slot, flush, then the same with sequence + 2
   * into the other slot, flush — so both copies are current and a crash leaves one valid.
   */
  private async updateHeaders(): Promise<void> {
    if (this.header.sequenceNumber >= 2n ** 64n - 16n) throw new DiskError('EFORMAT', `${this.path}: VHDX header sequence number is about to overflow`);
    const fileWriteGuid = randomGuidBytes();
    const dataWriteGuid = randomGuidBytes();
    let slot: 1 | 2 = this.header.slot === 1 ? 2 : 1;
    for (const step of [1n, 2n]) {
      const h = this.header.raw.slice();
      const v = view(h);
      v.setBigUint64(8, this.header.sequenceNumber + step, true);
      h.set(fileWriteGuid, 16);
      h.set(dataWriteGuid, 32);
      v.setUint32(4, vhdxChecksum(h), true);
      await this.file.write(slot === 1 ? 64 * KiB : 128 * KiB, h);
      await this.file.flush();
      slot = slot === 1 ? 2 : 1;
    }
    this.headersUpdated = true;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new DiskError('EROFS', `${this.path} was opened read-only`);
    const { pieces, problem } = this.pieces(offset, data.length);
    if (problem) throw new DiskError('ENOTSUP', `${this.path}: ${problem}`);
    if (!this.headersUpdated) await this.updateHeaders();
    for (const p of pieces) await this.file.write(p.file, data.subarray(p.virtual - offset, p.virtual - offset + p.length));
  }

  async flush(): Promise<void> {
    await this.file.flush();
  }

  async close(): Promise<void> {
    await this.file.close();
    await this.parent?.close();
  }
}

function randomGuidBytes(): Uint8Array {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[7] = (bytes[7]! & 0x0f) | 0x40; // version 4 (Data3's high nibble, stored little-endian)
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return bytes;
}

async function regionTable(file: Reader, at: number): Promise<Map<string, { offset: number; length: number }> | undefined> {
  const t = await file.read(at, 64 * KiB);
  if (t.length < 64 * KiB || String.fromCharCode(...t.subarray(0, 4)) !== 'regi' || view(t).getUint32(4, true) !== vhdxChecksum(t)) return undefined;
  const count = view(t).getUint32(8, true);
  if (count > 2047) return undefined;
  const regions = new Map<string, { offset: number; length: number }>();
  for (let i = 0; i < count; i++) {
    const e = 16 + i * 32;
    const guid = decodeGuid(t, e);
    const required = view(t).getUint32(e + 28, true) & 1;
    if (required && guid !== REGION_BAT && guid !== REGION_METADATA) {
      throw new DiskError('EFORMAT', `${file.path}: the VHDX requires a region gptdoctor does not know (${guid})`);
    }
    regions.set(guid, { offset: Number(view(t).getBigUint64(e + 16, true)), length: view(t).getUint32(e + 24, true) });
  }
  return regions;
}

async function readMetadata(file: Reader, offset: number, length: number, fail: (why: string) => never): Promise<Geometry> {
  const table = await file.read(offset, 64 * KiB);
  if (table.length < 64 * KiB || String.fromCharCode(...table.subarray(0, 8)) !== 'metadata') fail('no VHDX metadata table');
  const count = view(table).getUint16(10, true);
  if (count > 2047) fail('the VHDX metadata table is damaged');
  const items = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const e = 32 + i * 32;
    const id = decodeGuid(table, e);
    const itemOffset = view(table).getUint32(e + 16, true);
    const itemLength = view(table).getUint32(e + 20, true);
    const required = view(table).getUint32(e + 24, true) & 4;
    if (required && !KNOWN_ITEMS.has(id)) fail(`the VHDX requires a metadata item gptdoctor does not know (${id})`);
    if (itemOffset + itemLength > length || itemLength > MiB) fail('a VHDX metadata item lies outside its region');
    items.set(id, await file.read(offset + itemOffset, itemLength));
  }
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
function decodeParentLocator(item: Uint8Array, fail: (why: string) => never): Map<string, string> {
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

/**
 * Why `parent` cannot be this child's parent, if it cannot: a VHDX whose current DataWriteGuid
 * is the locator's parent_linkage (or a non-zero parent_linkage2, used during merges), with the
 * same virtual size and logical sector size. Any write to a parent changes its DataWriteGuid,
 * which is how a stale chain is caught.
 */
function parentMismatch(parent: BlockSource, locator: Map<string, string>, geometry: Geometry): string | undefined {
  if (!(parent instanceof VhdxSource)) return `it is a ${parent.format} image, not a VHDX`;
  const norm = (g: string | undefined): string => (g ?? '').replace(/[{}]/g, '').toUpperCase();
  const linkages = [norm(locator.get('parent_linkage')), norm(locator.get('parent_linkage2'))].filter((g) => g && g !== ZERO_GUID);
  if (!linkages.length) return 'the child names no parent_linkage';
  if (!linkages.includes(parent.header.dataWriteGuid.toUpperCase())) {
    return `its DataWriteGuid is {${parent.header.dataWriteGuid.toLowerCase()}} and the child expects ${locator.get('parent_linkage')} (the parent was changed after the child was made, or it is another disk)`;
  }
  if (parent.size !== geometry.virtualSize) return `it holds ${parent.size} bytes and the child ${geometry.virtualSize}`;
  if (parent.declaredSectorSize !== geometry.logicalSectorSize) return `its sectors are ${parent.declaredSectorSize} bytes and the child's ${geometry.logicalSectorSize}`;
  return undefined;
}
