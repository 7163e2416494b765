import { ZERO_GUID } from '../gpt/guid.js';
import { DiskError, writableDisk, type BlockSource } from './block-source.js';
import { blockSpans } from './block-spans.js';
import { readMixed, type ParentOpener } from './differencing.js';
import { overlayReader, replayLog, type LogReplay } from './vhdx-log.js';
import { vhdxDataRanges } from './vhdx-ranges.js';
import { logFieldsProblem } from './vhdx-rules.js';
import { throughViews } from './views.js';
import { KiB, MiB, REGION_BAT, REGION_METADATA, SB_PRESENT, BLOCK, type VhdxHeader, view, vhdxChecksum, decodeVhdxHeader, currentHeader, type Geometry, regionTable, readMetadata, type Reader } from './vhdx-format.js';

export { vhdxChecksum } from './vhdx-format.js';

/**
 * VHDX images, per [MS-VHDX] §2: two 4 KiB headers (the valid one with the higher sequence
 * number is current), two region tables locating the BAT and the metadata, metadata items for
 * block size, virtual size and sector sizes, and a BAT whose payload entries are interleaved with
 * one sector-bitmap entry per chunk. Everything little-endian; checksums are CRC-32C.
 * A differencing VHDX (HasParent) reads NOT_PRESENT blocks from its parent and PARTIALLY_PRESENT
 * ones sector by sector through its chunk's sector bitmap (LSB-first, 1 = in this file); the
 * parent is found through the parent locator and must carry the DataWriteGuid it names.
 */
export class VhdxSource implements BlockSource {
  readonly format = 'vhdx' as const;
  private read_ = 0;
  /** Set once the two-step header update of this write session is done. */
  private headersUpdated = false;

  private constructor(
    private readonly file: BlockSource,
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
  static async open(file: BlockSource, openParent?: ParentOpener): Promise<VhdxSource> {
    const fail = (why: string): never => {
      throw new DiskError('EFORMAT', `${file.path}: ${why}`);
    };
    const h1 = decodeVhdxHeader(await file.read(64 * KiB, 4 * KiB), 1);
    const h2 = decodeVhdxHeader(await file.read(128 * KiB, 4 * KiB), 2);
    const header = currentHeader(h1, h2) ?? fail('neither VHDX header is valid (signature, CRC-32C, version)');
    const logProblem = logFieldsProblem(header);
    if (logProblem) fail(`the VHDX header is invalid: ${logProblem}`);
    let reader: Reader = file;
    let replay: LogReplay | undefined;
    if (header.logGuid !== ZERO_GUID) {
      // [MS-VHDX] §2.3.3: replay before any other read; a read-only opener replays in memory.
      replay = await replayLog(file, header.logOffset, header.logLength, header.logGuid).catch((err: Error) => fail(`the VHDX log is damaged (${err.message})`));
      if (!replay) fail('the header names a VHDX log (LogGuid is set) but the log holds no valid sequence: the file is corrupt');
      reader = overlayReader(file, replay!);
    }
    const log = { offset: header.logOffset, length: header.logLength };
    const regions = (await regionTable(reader, 192 * KiB, log)) ?? (await regionTable(reader, 256 * KiB, log)) ?? fail('neither VHDX region table is valid');
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
      await writableDisk(this.file).write(slot === 1 ? 64 * KiB : 128 * KiB, h);
      await writableDisk(this.file).flush();
      slot = slot === 1 ? 2 : 1;
    }
    this.headersUpdated = true;
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new DiskError('EROFS', `${this.path} was opened read-only`);
    const { pieces, problem } = this.pieces(offset, data.length);
    if (problem) throw new DiskError('ENOTSUP', `${this.path}: ${problem}`);
    if (!this.headersUpdated) await this.updateHeaders();
    for (const p of pieces) await writableDisk(this.file).write(p.file, data.subarray(p.virtual - offset, p.virtual - offset + p.length));
  }

  async flush(): Promise<void> {
    await writableDisk(this.file).flush();
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

/**
 * Why `parent` cannot be this child's parent, if it cannot: a VHDX whose current DataWriteGuid
 * is the locator's parent_linkage (or a non-zero parent_linkage2, used during merges), with the
 * same virtual size and logical sector size. Any write to a parent changes its DataWriteGuid,
 * which is how a stale chain is caught.
 */
function parentMismatch(opened: BlockSource, locator: Map<string, string>, geometry: Geometry): string | undefined {
  const parent = throughViews(opened); // a parent read over HTTP(S) or decompressed
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
