import { zlib } from '../lazy-zlib.js';
import { DiskError, type ReadableDisk } from './block-source.js';
import { inflateProblem } from './inflate-error.js';
import { RangeList, runsOf, walkTables, type Range } from './ranges.js';

/**
 * One hosted sparse extent ("KDMV"), per VMware's "Virtual Disk Format 5.0" and qemu's
 * block/vmdk.c: a little-endian header, a grain directory of grain tables of 32-bit sector
 * offsets; streamOptimized grains are zlib-compressed behind a 12-byte marker.
 * monolithicSparse and streamOptimized disks are one such extent; twoGbMaxExtentSparse disks are
 * several, listed by a text descriptor.
 */
const GD_AT_END = 0xffff_ffff_ffff_ffffn;
const FLAG_ZEROED_GTE = 1 << 2;
const FLAG_COMPRESSED = 1 << 16;

interface SparseHeader {
  flags: number;
  capacity: number;
  grainSize: number;
  descriptorOffset: number;
  descriptorSize: number;
  gtes: number;
  gdOffset: bigint;
}

function decode(h: Uint8Array): SparseHeader {
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  return {
    flags: v.getUint32(8, true),
    capacity: Number(v.getBigUint64(12, true)),
    grainSize: Number(v.getBigUint64(20, true)),
    descriptorOffset: Number(v.getBigUint64(28, true)),
    descriptorSize: Number(v.getBigUint64(36, true)),
    gtes: v.getUint32(44, true),
    gdOffset: v.getBigUint64(56, true),
  };
}

export function isSparseExtent(head: Uint8Array): boolean {
  return head[0] === 0x4b && head[1] === 0x44 && head[2] === 0x4d && head[3] === 0x56; // "KDMV"
}

/** What one grain holds: its bytes, zeros, or nothing here (read the parent, or zeros). */
export type Grain = Uint8Array | 'zero' | 'unallocated';

export class SparseExtent {
  private readonly tables = new Map<number, Uint32Array>();

  private constructor(
    readonly file: ReadableDisk,
    private readonly header: SparseHeader,
    private readonly gd: Uint32Array,
  ) {}

  /** Size of the extent in bytes. */
  get size(): number {
    return this.header.capacity * 512;
  }
  get grainBytes(): number {
    return this.header.grainSize * 512;
  }

  static async open(file: ReadableDisk): Promise<SparseExtent> {
    const fail = (why: string): never => {
      throw new DiskError('EFORMAT', `${file.path}: ${why}`);
    };
    const first = await file.read(0, 512);
    if (!isSparseExtent(first)) fail('not a VMDK sparse extent (no KDMV signature)');
    let header = decode(first);
    if (header.gdOffset === GD_AT_END) header = decode(await file.read(file.size - 1024, 512)); // streamOptimized footer copy
    if (header.capacity <= 0 || !Number.isSafeInteger(header.capacity * 512)) fail('VMDK capacity is invalid');
    if (header.grainSize < 1 || header.grainSize > 2048 || (header.grainSize & (header.grainSize - 1)) !== 0) fail(`VMDK grain size ${header.grainSize} is invalid`);
    if (header.gtes < 1 || header.gtes > 4096) fail(`VMDK grain tables of ${header.gtes} entries are invalid`);
    const gdEntries = Math.ceil(header.capacity / (header.grainSize * header.gtes));
    const gdOffset = Number(header.gdOffset) * 512;
    if (gdOffset + gdEntries * 4 > file.size) fail('the VMDK grain directory lies past the end of the file');
    const raw = await file.read(gdOffset, gdEntries * 4);
    const gd = new Uint32Array(gdEntries);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < gdEntries; i++) gd[i] = v.getUint32(i * 4, true);
    return new SparseExtent(file, header, gd);
  }

  /** The descriptor embedded in this extent (monolithicSparse, streamOptimized), or '' when none. */
  async embeddedDescriptor(): Promise<string> {
    const { descriptorOffset, descriptorSize } = this.header;
    if (!descriptorOffset || !descriptorSize) return '';
    const bytes = await this.file.read(descriptorOffset * 512, Math.min(descriptorSize, 128) * 512);
    return new TextDecoder().decode(bytes);
  }

  private async grainTable(sector: number): Promise<Uint32Array> {
    let table = this.tables.get(sector);
    if (!table) {
      const raw = await this.file.read(sector * 512, this.header.gtes * 4);
      const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      table = new Uint32Array(this.header.gtes);
      for (let i = 0; i < raw.length / 4; i++) table[i] = v.getUint32(i * 4, true);
      if (this.tables.size > 256) this.tables.clear();
      this.tables.set(sector, table);
    }
    return table;
  }

  /**
   * The byte ranges of this extent whose grains are allocated, from the grain directory and
   * tables (each table read once): not zeroed grains, and uncompressed grains cut to the bytes the
   * file holds (grain() gives them short, read as zeros). A compressed grain counts whole: it
   * inflates to data, or fails as grain() does.
   */
  async dataRanges(): Promise<Range[]> {
    const { gtes, flags } = this.header;
    const grainBytes = this.grainBytes;
    const fileSize = this.file.size;
    const bytes = (sector: number): number => {
      if (sector === 0 || (sector === 1 && flags & FLAG_ZEROED_GTE)) return 0;
      if (flags & FLAG_COMPRESSED) return grainBytes;
      return sector * 512 < fileSize ? Math.min(grainBytes, fileSize - sector * 512) : 0;
    };
    const out = new RangeList();
    const map = {
      count: this.gd.length,
      span: gtes * grainBytes,
      key: (i: number): number | undefined => this.gd[i] || undefined,
      scan: async (sector: number, add: (from: number, to: number) => void): Promise<void> => {
        const raw = await this.file.read(sector * 512, gtes * 4); // short past the end: unallocated, as in grain()
        const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        runsOf(Math.floor(raw.length / 4), grainBytes, (j) => bytes(v.getUint32(j * 4, true)), add);
      },
    };
    await walkTables(map, 0, this.size, out);
    return out.ranges();
  }

  async grain(index: number): Promise<Grain> {
    const gtSector = this.gd[Math.floor(index / this.header.gtes)] ?? 0;
    if (!gtSector) return 'unallocated';
    const sector = (await this.grainTable(gtSector))[index % this.header.gtes] ?? 0;
    if (sector === 0) return 'unallocated';
    // With the zeroed-grain flag, 1 means "reads as zeros", even over a parent.
    if (sector === 1 && this.header.flags & FLAG_ZEROED_GTE) return 'zero';
    const grainBytes = this.grainBytes;
    if (!(this.header.flags & FLAG_COMPRESSED)) return this.file.read(sector * 512, grainBytes);
    const marker = await this.file.read(sector * 512, 12);
    if (marker.length < 12) throw new DiskError('EFORMAT', `${this.file.path}: grain ${index} points past the end of the file (sector ${sector})`);
    const length = new DataView(marker.buffer, marker.byteOffset).getUint32(8, true);
    if (length > grainBytes * 2 + 1024) throw new DiskError('EFORMAT', `${this.file.path}: a compressed VMDK grain claims ${length} bytes`);
    try {
      return zlib().inflateSync(await this.file.read(sector * 512 + 12, length), { maxOutputLength: grainBytes }); // a grain inflates to one grain at most
    } catch (err) {
      throw new DiskError('EFORMAT', `${this.file.path}: a compressed VMDK grain does not inflate: ${inflateProblem(err, grainBytes)}`);
    }
  }
}
