import { inflateSync } from 'node:zlib';
import { DiskError, type BlockSource } from './block-source.js';
import { blockSpans } from './block-spans.js';
import type { FileSource } from './file-source.js';

/**
 * Hosted sparse VMDK (monolithicSparse and streamOptimized), read-only, per VMware's "Virtual
 * Disk Format 5.0" and qemu's block/vmdk.c: little-endian header, a grain directory of grain
 * tables of 32-bit sector offsets; streamOptimized grains are zlib-compressed behind a marker.
 * Snapshots (a parent link) and multi-extent or flat disks are refused with a reason.
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

export class VmdkSource implements BlockSource {
  readonly format = 'vmdk' as const;
  readonly writable = false;
  readonly declaredSectorSize = 512;
  private read_ = 0;
  private readonly tables = new Map<number, Uint32Array>();

  private constructor(
    private readonly file: FileSource,
    private readonly header: SparseHeader,
    private readonly gd: Uint32Array,
  ) {}

  get path(): string {
    return this.file.path;
  }
  get size(): number {
    return this.header.capacity * 512;
  }
  get bytesRead(): number {
    return this.read_;
  }

  static async open(file: FileSource): Promise<VmdkSource> {
    const fail = (why: string): never => {
      throw new DiskError('EFORMAT', `${file.path}: ${why}`);
    };
    const first = await file.read(0, 512);
    if (String.fromCharCode(...first.subarray(0, 4)) !== 'KDMV') {
      fail('this is a VMDK descriptor file: its data lives in other extent files (flat or split VMDK), which gptdoctor does not follow yet');
    }
    let header = decode(first);
    if (header.gdOffset === GD_AT_END) header = decode(await file.read(file.size - 1024, 512)); // streamOptimized footer copy
    if (header.capacity <= 0 || !Number.isSafeInteger(header.capacity * 512)) fail('VMDK capacity is invalid');
    if (header.grainSize < 1 || header.grainSize > 2048 || (header.grainSize & (header.grainSize - 1)) !== 0) fail(`VMDK grain size ${header.grainSize} is invalid`);
    if (header.gtes < 1 || header.gtes > 4096) fail(`VMDK grain tables of ${header.gtes} entries are invalid`);
    const descriptor = new TextDecoder().decode(await file.read(header.descriptorOffset * 512, Math.min(header.descriptorSize, 128) * 512));
    const parent = /parentCID\s*=\s*([0-9a-f]+)/i.exec(descriptor)?.[1];
    if (parent && parent.toLowerCase() !== 'ffffffff') fail('this VMDK is a snapshot of a parent disk; reading through parents is not supported yet');
    if (/^\s*RW\s+\d+\s+(FLAT|VMFS)\b/im.test(descriptor)) fail('this VMDK has flat extents, which gptdoctor does not follow yet');
    const gdEntries = Math.ceil(header.capacity / (header.grainSize * header.gtes));
    const gdOffset = Number(header.gdOffset) * 512;
    if (gdOffset + gdEntries * 4 > file.size) fail('the VMDK grain directory lies past the end of the file');
    const raw = await file.read(gdOffset, gdEntries * 4);
    const gd = new Uint32Array(gdEntries);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < gdEntries; i++) gd[i] = v.getUint32(i * 4, true);
    return new VmdkSource(file, header, gd);
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

  private async grain(index: number): Promise<Uint8Array | undefined> {
    const gtSector = this.gd[Math.floor(index / this.header.gtes)] ?? 0;
    if (!gtSector) return undefined;
    const sector = (await this.grainTable(gtSector))[index % this.header.gtes] ?? 0;
    if (sector === 0 || (sector === 1 && this.header.flags & FLAG_ZEROED_GTE)) return undefined;
    const grainBytes = this.header.grainSize * 512;
    if (!(this.header.flags & FLAG_COMPRESSED)) return this.file.read(sector * 512, grainBytes);
    // streamOptimized: a marker (u64 LBA, u32 compressed size) precedes the zlib data.
    const marker = await this.file.read(sector * 512, 12);
    const length = new DataView(marker.buffer, marker.byteOffset).getUint32(8, true);
    if (length > grainBytes * 2 + 1024) throw new DiskError('EFORMAT', `${this.path}: a compressed VMDK grain claims ${length} bytes`);
    try {
      return inflateSync(await this.file.read(sector * 512 + 12, length));
    } catch (err) {
      throw new DiskError('EFORMAT', `${this.path}: a compressed VMDK grain does not inflate (${(err as Error).message})`);
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    const out = new Uint8Array(Math.max(0, end - offset));
    for (const { block: index, within, at, length: take } of blockSpans(offset, end, this.header.grainSize * 512)) {
      const data = await this.grain(index);
      if (data) out.set(data.subarray(within, within + take), at - offset); // unallocated grains read as zeros
    }
    this.read_ += out.length;
    return out;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}
