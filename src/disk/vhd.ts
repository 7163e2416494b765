import { DiskError, writableDisk, type BlockSource, type ReadableDisk, type SourceFormat } from './block-source.js';
import { blockSpans } from './block-spans.js';
import { throughViews } from './views.js';
import { readMixed, type ParentOpener } from './differencing.js';
import { RangeList, sourceRanges, unionRanges, type Range } from './ranges.js';

/**
 * VHD ("vpc") images, per Microsoft's Virtual Hard Disk Image Format Specification 1.0:
 * big-endian, 512-byte sectors, a 512-byte footer at the end (and, for dynamic disks, a copy at
 * offset 0), a dynamic header, a BAT of u32 sector numbers, and per block a sector bitmap
 * (MSB-first) followed by the data. The virtual size is the footer's Current Size, as Windows,
 * Hyper-V and Azure read it; the CHS-derived size is reported beside it. A differencing VHD
 * (type 4) reads a sector from itself when its block is allocated and the sector's bitmap bit is
 * set, and from its parent otherwise; the parent is found through the locators and must carry
 * the Unique Id the child names.
 */
export interface VhdFooter {
  cookieOk: boolean;
  checksumOk: boolean;
  features: number;
  dataOffset: bigint;
  creatorApp: string;
  currentSize: number;
  originalSize: number;
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
  diskType: number;
  uniqueId: string;
  savedState: number;
}

const be32 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, false);
const be64 = (b: Uint8Array, o: number): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(o, false);
const ascii = (b: Uint8Array, o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n));
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** One's complement of the byte sum with the checksum field (4 bytes at `at`) taken as zero. */
export function vhdChecksum(bytes: Uint8Array, at: number): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) if (i < at || i >= at + 4) sum = (sum + bytes[i]!) >>> 0;
  return ~sum >>> 0;
}

export function decodeVhdFooter(read: Uint8Array): VhdFooter {
  const b = read.length >= 512 ? read : new Uint8Array(512);
  if (read.length < 512) b.set(read);
  const safe = (v: bigint): number => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.NaN);
  return {
    cookieOk: ascii(b, 0, 8) === 'conectix',
    checksumOk: read.length >= 512 && be32(b, 64) === vhdChecksum(b.subarray(0, 512), 64),
    features: be32(b, 8),
    dataOffset: be64(b, 16),
    creatorApp: ascii(b, 28, 4),
    originalSize: safe(be64(b, 40)),
    currentSize: safe(be64(b, 48)),
    cylinders: (b[56]! << 8) | b[57]!,
    heads: b[58]!,
    sectorsPerTrack: b[59]!,
    diskType: be32(b, 60),
    uniqueId: hex(b.subarray(68, 84)),
    savedState: b[84]!,
  };
}

const MAX_BAT_ENTRIES = 1 << 24; // 32 TiB of 2 MiB blocks: far past the 2040 GiB VHD limit
const UNALLOCATED = 0xffffffff;

interface DynamicLayout {
  entries: Uint32Array;
  blockSize: number;
  bitmapBytes: number;
  /** The dynamic header, for a differencing disk's parent fields. */
  header: Uint8Array;
}

export class VhdSource implements BlockSource {
  readonly declaredSectorSize = 512;
  private read_ = 0;

  private constructor(
    private readonly file: BlockSource,
    readonly footer: VhdFooter,
    readonly format: SourceFormat,
    readonly size: number,
    private readonly bat?: DynamicLayout,
    /** The parent of a differencing VHD. */
    private readonly parent?: BlockSource,
  ) {}

  get path(): string {
    return this.file.path;
  }

  get bytesRead(): number {
    return this.read_;
  }

  get writable(): boolean {
    return this.file.writable;
  }

  /** The size a CHS-trusting reader (Virtual PC, older qemu) sees. */
  get chsSize(): number {
    return this.footer.cylinders * this.footer.heads * this.footer.sectorsPerTrack * 512;
  }

  /**
   * Windows reads Current Size, Virtual PC and some qemu versions the CHS product: show both. The
   * file's length beside them, because Azure takes a fixed VHD only when it is Current Size plus
   * the 512-byte footer, exactly.
   */
  get containerInfo(): Record<string, string | number> {
    return {
      type: this.parent ? 'differencing' : this.bat ? 'dynamic' : 'fixed',
      ...(this.parent ? { parent: this.parent.path } : {}),
      creator: this.footer.creatorApp.replace(/\0/g, ''),
      currentSize: this.footer.currentSize,
      chsSize: this.chsSize,
      fileSize: this.file.size,
    };
  }

  /**
   * Opens a VHD whose footer sits at the end of `file` (or, for dynamic disks, at its start).
   * `openParent` opens a differencing disk's parent from the paths it stores.
   */
  static async open(file: BlockSource, openParent?: ParentOpener): Promise<VhdSource> {
    if (file.size < 512) throw new DiskError('EFORMAT', `${file.path}: too short to hold a VHD footer`);
    let footer = decodeVhdFooter(await file.read(file.size - 512, 512));
    if (!footer.cookieOk || !footer.checksumOk) {
      const head = decodeVhdFooter(await file.read(0, 512));
      if (head.cookieOk && head.checksumOk && head.diskType !== 2) footer = head; // the spec's fallback for dynamic disks
    }
    if (!footer.cookieOk) throw new DiskError('EFORMAT', `${file.path}: no VHD footer ("conectix") at the end of the file`);
    if (!footer.checksumOk) throw new DiskError('EFORMAT', `${file.path}: the VHD footer checksum is wrong and no intact copy was found`);
    if (!Number.isSafeInteger(footer.currentSize) || footer.currentSize <= 0) throw new DiskError('EFORMAT', `${file.path}: VHD current size is invalid`);
    if (footer.diskType === 2) {
      const data = file.size - 512;
      if (footer.currentSize > data) throw new DiskError('EFORMAT', `${file.path}: fixed VHD claims ${footer.currentSize} bytes but holds ${data} (truncated?)`);
      return new VhdSource(file, footer, 'vhd', footer.currentSize);
    }
    if (footer.diskType !== 3 && footer.diskType !== 4) throw new DiskError('EFORMAT', `${file.path}: VHD disk type ${footer.diskType} is not fixed (2), dynamic (3) or differencing (4)`);
    const layout = await readDynamic(file, footer);
    if (footer.diskType === 3) return new VhdSource(file, footer, 'vhd', footer.currentSize, layout);
    if (!openParent) throw new DiskError('EFORMAT', `${file.path} is a differencing VHD and no way to open its parent was given`);
    const parent = await openParent(await parentPaths(file, layout.header));
    const expected = hex(layout.header.subarray(40, 56));
    const reader = throughViews(parent); // a parent read over HTTP(S) or decompressed
    const problem = !(reader instanceof VhdSource)
      ? `it is a ${parent.format} image, not a VHD`
      : reader.footer.uniqueId !== expected
        ? `its Unique Id is ${reader.footer.uniqueId}, and the child names ${expected}`
        : parent.size !== footer.currentSize
          ? `it holds ${parent.size} bytes and the child ${footer.currentSize}`
          : undefined;
    if (problem) {
      await parent.close();
      throw new DiskError('EFORMAT', `${file.path}: ${parent.path} is not the parent of this differencing VHD: ${problem}`);
    }
    return new VhdSource(file, footer, 'vhd', footer.currentSize, layout, parent);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    const out = new Uint8Array(Math.max(0, end - offset));
    if (!this.bat) {
      const data = await this.file.read(offset, out.length);
      out.set(data);
    } else {
      const { entries, blockSize, bitmapBytes } = this.bat;
      for (const { block, within, at, length: take } of blockSpans(offset, end, blockSize)) {
        const sector = entries[block] ?? UNALLOCATED;
        const data = sector * 512 + bitmapBytes;
        if (!this.parent) {
          if (sector !== UNALLOCATED) out.set(await this.file.read(data + within, take), at - offset);
          continue; // unallocated blocks of a dynamic disk read as zeros
        }
        if (sector === UNALLOCATED) {
          out.set(await this.parent.read(at, take), at - offset);
          continue;
        }
        // Differencing: bit set (MSB-first) means the child holds the sector.
        const bitmap = await this.file.read(sector * 512, bitmapBytes);
        const present = (s: number): boolean => (((bitmap[s >> 3] ?? 0) >> (7 - (s & 7))) & 1) === 1;
        await readMixed(out, offset, { blockStart: at - within, within, length: take }, 512, present, (w, n) => this.file.read(data + w, n), this.parent);
      }
    }
    this.read_ += out.length;
    return out;
  }

  /**
   * Fixed: the data the file holds. Dynamic: the blocks the BAT allocates, cut to the bytes the
   * file holds (read() gives zeros past its end). Differencing: with the parent's ranges too.
   */
  async dataRanges(): Promise<Range[]> {
    if (!this.bat) return [[0, Math.min(this.size, Math.max(0, this.file.size - 512))]];
    const { entries, blockSize, bitmapBytes } = this.bat;
    const out = new RangeList();
    for (let block = 0; block < entries.length; block++) {
      const sector = entries[block]!;
      if (sector === UNALLOCATED) continue;
      const start = block * blockSize;
      const held = this.file.size - (sector * 512 + bitmapBytes);
      if (held > 0) out.add(start, Math.min(start + blockSize, start + held, this.size));
    }
    return this.parent ? unionRanges(out.ranges(), await sourceRanges(this.parent)) : out.ranges();
  }

  /**
   * Where each piece of a virtual range lives in the file: fixed VHDs map one to one; dynamic
   * ones through the BAT, and only allocated blocks whose bitmap marks every target sector.
   */
  private async pieces(offset: number, length: number): Promise<{ pieces: Array<{ virtual: number; file: number; length: number }>; problem?: string }> {
    if (offset < 0 || offset + length > this.size) return { pieces: [], problem: `bytes ${offset}..${offset + length} lie outside the ${this.size}-byte disk` };
    if (!this.bat) return { pieces: [{ virtual: offset, file: offset, length }] };
    const { entries, blockSize, bitmapBytes } = this.bat;
    const pieces: Array<{ virtual: number; file: number; length: number }> = [];
    for (const { block, within, at, length: take } of blockSpans(offset, offset + length, blockSize)) {
      const sector = entries[block] ?? UNALLOCATED;
      if (sector === UNALLOCATED) return { pieces, problem: `VHD block ${block} is not allocated; gptdoctor writes only into blocks that already hold data` };
      const bitmap = await this.file.read(sector * 512, bitmapBytes);
      for (let s = Math.floor(within / 512); s <= Math.floor((within + take - 1) / 512); s++) {
        if (!(((bitmap[s >> 3] ?? 0) >> (7 - (s & 7))) & 1)) return { pieces, problem: `sector ${s} of VHD block ${block} is marked unwritten in its bitmap; gptdoctor does not change bitmaps` };
      }
      pieces.push({ virtual: at, file: sector * 512 + bitmapBytes + within, length: take });
    }
    return { pieces };
  }

  async whyNotWritable(offset: number, length: number): Promise<string | undefined> {
    if (this.footer.savedState) return 'the VHD belongs to a saved (hibernated) virtual machine';
    return (await this.pieces(offset, length)).problem;
  }

  /** In-place writes only: no block allocation, no bitmap change, and never over the footer. */
  async write(offset: number, data: Uint8Array): Promise<void> {
    if (!this.writable) throw new DiskError('EROFS', `${this.path} was opened read-only`);
    const { pieces, problem } = await this.pieces(offset, data.length);
    if (problem) throw new DiskError('ENOTSUP', `${this.path}: ${problem}`);
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

/**
 * The parent paths a differencing VHD stores, in the order to try them: the `W2ru` (relative)
 * and `W2ku` (absolute) locators, UTF-16LE as Hyper-V writes them, a `MacX` file URL, and last
 * the bare parent name of the dynamic header (UTF-16BE).
 */
async function parentPaths(file: ReadableDisk, header: Uint8Array): Promise<string[]> {
  const byCode = new Map<string, string>();
  for (let slot = 0; slot < 8; slot++) {
    const e = 576 + slot * 24;
    const code = ascii(header, e, 4);
    const length = be32(header, e + 8);
    const at = Number(be64(header, e + 16));
    if (!['W2ru', 'W2ku', 'MacX'].includes(code) || length === 0 || length > 64 * 1024 || !Number.isSafeInteger(at) || at + length > file.size) continue;
    const bytes = await file.read(at, length);
    byCode.set(code, new TextDecoder(code === 'MacX' ? 'utf-8' : 'utf-16le').decode(bytes));
  }
  const name = new TextDecoder('utf-16be').decode(header.subarray(64, 576)).replace(/\0.*$/s, '');
  return [byCode.get('W2ru'), byCode.get('W2ku'), byCode.get('MacX'), name].filter((p): p is string => Boolean(p));
}

async function readDynamic(file: ReadableDisk, footer: VhdFooter): Promise<DynamicLayout> {
  const headerOffset = Number(footer.dataOffset);
  if (!Number.isSafeInteger(headerOffset) || headerOffset + 1024 > file.size) throw new DiskError('EFORMAT', `${file.path}: VHD dynamic header offset is past the end of the file`);
  const h = await file.read(headerOffset, 1024);
  if (ascii(h, 0, 8) !== 'cxsparse') throw new DiskError('EFORMAT', `${file.path}: no VHD dynamic header ("cxsparse")`);
  if (be32(h, 36) !== vhdChecksum(h, 36)) throw new DiskError('EFORMAT', `${file.path}: VHD dynamic header checksum is wrong`);
  const tableOffset = Number(be64(h, 16));
  const maxEntries = be32(h, 28);
  const blockSize = be32(h, 32);
  if (blockSize < 512 || blockSize % 512 !== 0 || (blockSize & (blockSize - 1)) !== 0) throw new DiskError('EFORMAT', `${file.path}: VHD block size ${blockSize} is not a power of two`);
  const needed = Math.ceil(footer.currentSize / blockSize);
  if (maxEntries > MAX_BAT_ENTRIES || !Number.isSafeInteger(tableOffset) || tableOffset + maxEntries * 4 > file.size) {
    throw new DiskError('EFORMAT', `${file.path}: VHD BAT (${maxEntries} entries at ${tableOffset}) does not fit in the file`);
  }
  const raw = await file.read(tableOffset, Math.min(maxEntries, needed) * 4);
  const entries = new Uint32Array(raw.length / 4);
  for (let i = 0; i < entries.length; i++) entries[i] = be32(raw, i * 4);
  const bitmapBytes = Math.ceil(blockSize / 512 / 8 / 512) * 512;
  return { entries, blockSize, bitmapBytes, header: h };
}
