import { dirname, resolve } from 'node:path';
import { zlib } from '../lazy-zlib.js';
import { DiskError, type BlockSource, type ReadableDisk } from './block-source.js';
import { blockSpans, padTo } from './block-spans.js';
import { inflateProblem } from './inflate-error.js';
import { FileSource } from './file-source.js';
import { dataFileName, decodeQcow2Header, INCOMPATIBLE, nameText } from './qcow2-header.js';
import { clipRanges, RangeList, runsOf, sourceRanges, unionRanges, walkTables, type Range } from './ranges.js';
import { zstdFrameLength } from './zstd-frames.js';

/**
 * qcow2 images, read-only, per qemu's docs/interop/qcow2.txt: big-endian header, a two-level
 * L1/L2 cluster map, clusters that read as zero, raw-DEFLATE compressed clusters, and backing
 * files for unallocated clusters; zlib or zstd compressed clusters (incompatible bit 3); guest
 * clusters in an external data file (incompatible bit 2, named by the "DATA" header extension).
 * Encryption and extended L2 entries are refused.
 */
const OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;

export class Qcow2Source implements BlockSource {
  readonly format = 'qcow2' as const;
  readonly writable = false;
  readonly readOnlyReason = 'gptdoctor reads qcow2 images but does not write them';
  private read_ = 0;
  private readonly l2Cache = new Map<number, Uint8Array>();

  private constructor(
    private readonly file: ReadableDisk,
    readonly size: number,
    private readonly clusterBits: number,
    private readonly l1: Uint8Array,
    private readonly backing: BlockSource | undefined,
    /** Findings-worthy facts about the container (the corrupt bit). */
    readonly notes: string[],
    private readonly compression: 'zlib' | 'zstd',
    /** The external data file that holds the guest clusters, when the image has one. */
    private readonly dataFile?: ReadableDisk,
  ) {}

  get path(): string {
    return this.file.path;
  }
  get bytesRead(): number {
    return this.read_;
  }

  /** `openBacking` opens the backing file (it is given the resolved path) with the same rules. */
  static async open(file: ReadableDisk, openBacking: (path: string) => Promise<BlockSource>): Promise<Qcow2Source> {
    const fail = (why: string): never => {
      throw new DiskError('EFORMAT', `${file.path}: ${why}`);
    };
    const decoded = decodeQcow2Header(await file.read(0, 4096));
    const header = typeof decoded === 'string' ? fail(decoded) : decoded;
    const { clusterBits, size, l1Size, l1Offset } = header;
    const notes: string[] = [];
    if (header.incompatible & INCOMPATIBLE.corrupt) notes.push('qcow2 header has the corrupt bit set');
    const l2Entries = 2 ** (clusterBits - 3);
    if (l1Size < Math.ceil(size / (2 ** clusterBits * l2Entries)) || l1Size > 32 * 1024 * 1024) fail('the qcow2 L1 table size does not match the disk size');
    if (l1Offset + l1Size * 8 > file.size) fail('the qcow2 L1 table lies past the end of the file');
    const l1 = await file.read(l1Offset, l1Size * 8);
    const named = (bytes: Uint8Array, what: string): string => {
      const text = nameText(bytes, what);
      return text instanceof Error ? fail(text.message) : text;
    };
    let dataFile: ReadableDisk | undefined;
    if (header.incompatible & INCOMPATIBLE.externalData) {
      const name = dataFileName(await file.read(0, 2 ** clusterBits), header.extensionsAt);
      if (name instanceof Error) fail(name.message);
      if (name === undefined) fail('the qcow2 image keeps its data in an external data file that its header does not name');
      dataFile = await openDataFile(file.path, resolve(dirname(file.path), name as string));
    }
    let backing: BlockSource | undefined;
    if (header.backingOffset) {
      if (header.backingSize === 0 || header.backingSize > 1023) fail('the qcow2 backing file name is invalid');
      const name = named(await file.read(header.backingOffset, header.backingSize), 'backing file');
      try {
        backing = await openBacking(resolve(dirname(file.path), name));
      } catch (err) {
        await dataFile?.close();
        throw err;
      }
    }
    return new Qcow2Source(file, size, clusterBits, l1, backing, notes, header.compression, dataFile);
  }

  private async l2Table(offset: number): Promise<Uint8Array> {
    let table = this.l2Cache.get(offset);
    if (!table) {
      table = await this.file.read(offset, 2 ** this.clusterBits);
      if (this.l2Cache.size > 256) this.l2Cache.clear();
      this.l2Cache.set(offset, table);
    }
    return table;
  }

  /** The bytes of one guest cluster range [within, within + length). */
  private async readCluster(cluster: number, within: number, length: number, guestOffset: number): Promise<Uint8Array> {
    const clusterSize = 2 ** this.clusterBits;
    const l2Entries = clusterSize / 8;
    const l1Index = Math.floor(cluster / l2Entries);
    const l1Entry = l1Index * 8 + 8 <= this.l1.length ? new DataView(this.l1.buffer, this.l1.byteOffset).getBigUint64(l1Index * 8) : 0n;
    const l2Offset = Number(l1Entry & OFFSET_MASK);
    if (l2Offset) {
      const l2 = await this.l2Table(l2Offset);
      const at = (cluster % l2Entries) * 8;
      const entry = at + 8 <= l2.length ? new DataView(l2.buffer, l2.byteOffset).getBigUint64(at) : 0n;
      if (entry & (1n << 62n)) return (await this.compressed(entry)).subarray(within, within + length);
      if (entry & 1n) return new Uint8Array(length); // reads as zero (v3)
      const host = Number(entry & OFFSET_MASK);
      // With an external data file, host offset 0 is a real cluster when the entry is allocated (bit 63).
      if (host || (this.dataFile && entry & (1n << 63n))) return padTo(await (this.dataFile ?? this.file).read(host + within, length), length);
    }
    if (this.backing && guestOffset < this.backing.size) return padTo(await this.backing.read(guestOffset, length), length);
    return new Uint8Array(length);
  }

  private async compressed(entry: bigint): Promise<Uint8Array> {
    if (this.dataFile) throw new DiskError('EFORMAT', `${this.path}: a qcow2 image with an external data file cannot have compressed clusters`);
    const x = 62n - BigInt(this.clusterBits - 8);
    const host = Number(entry & ((1n << x) - 1n));
    const sectors = Number((entry >> x) & ((1n << (62n - x)) - 1n)) + 1;
    const raw = await this.file.read(host, sectors * 512 - (host % 512));
    if (this.compression === 'zstd') return this.zstdCluster(raw);
    try {
      // A cluster inflates to one cluster at most: a hostile stream that would inflate further is
      // stopped at that size (zlib throws) instead of filling memory.
      return zlib().inflateRawSync(raw, { finishFlush: 2 /* Z_SYNC_FLUSH: trailing bytes are padding */, maxOutputLength: 2 ** this.clusterBits });
    } catch (err) {
      throw new DiskError('EFORMAT', `${this.path}: a compressed qcow2 cluster does not inflate: ${inflateProblem(err, 2 ** this.clusterBits)}`);
    }
  }

  /**
   * A zstd-compressed cluster: one zstd frame, followed by the padding of its last sector (qemu
   * decompresses until the frame ends). It is decoded into a buffer of one cluster, so no frame
   * can make it allocate more.
   */
  private async zstdCluster(raw: Uint8Array): Promise<Uint8Array> {
    const { decompress } = await import('fzstd');
    const length = zstdFrameLength(raw);
    const cluster = new Uint8Array(2 ** this.clusterBits);
    try {
      if (length === undefined) throw new Error('the zstd frame is cut short');
      const out = decompress(raw.subarray(0, length), cluster);
      if (out.length !== cluster.length) throw new Error(`it holds ${out.length} bytes, not one cluster`);
      return out;
    } catch (err) {
      throw new DiskError('EFORMAT', `${this.path}: a zstd-compressed qcow2 cluster does not decompress (${(err as Error).message})`);
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    const out = new Uint8Array(Math.max(0, end - offset));
    for (const { block: cluster, within, at, length: take } of blockSpans(offset, end, 2 ** this.clusterBits)) {
      out.set(await this.readCluster(cluster, within, take, at), at - offset);
    }
    this.read_ += out.length;
    return out;
  }

  /**
   * The clusters the L2 tables map: compressed ones, and allocated ones cut to the bytes their
   * file holds (read() gives zeros past its end), but not those flagged "reads as zero"; with the
   * backing file's ranges, within this disk, for the clusters it fills. Each L2 table is read once.
   */
  async dataRanges(): Promise<Range[]> {
    const clusterSize = 2 ** this.clusterBits;
    const l1 = new DataView(this.l1.buffer, this.l1.byteOffset, this.l1.byteLength);
    const hostSize = (this.dataFile ?? this.file).size;
    // Entries as two 32-bit halves: bit 63 allocated, 62 compressed, 9-55 the host offset, 0 zero.
    const offsetOf = (hi: number, lo: number): number => (hi & 0x00ff_ffff) * 2 ** 32 + (lo - (lo & 0x1ff));
    const clusterBytes = (hi: number, lo: number): number => {
      if (hi & 0x4000_0000) return clusterSize; // compressed: inflates to data, or fails as read() does
      if (lo & 1) return 0;
      const host = offsetOf(hi, lo);
      if (!host && !(this.dataFile && hi & 0x8000_0000)) return 0; // unallocated: the backing file's
      return host < hostSize ? Math.min(clusterSize, hostSize - host) : 0;
    };
    const out = new RangeList();
    const map = {
      count: this.l1.length / 8,
      span: clusterSize * (clusterSize / 8),
      key: (i: number): number | undefined => offsetOf(l1.getUint32(i * 8), l1.getUint32(i * 8 + 4)) || undefined,
      scan: async (offset: number, add: (from: number, to: number) => void): Promise<void> => {
        const l2 = await this.file.read(offset, clusterSize); // short past the end: the rest is unallocated, as in read()
        const v = new DataView(l2.buffer, l2.byteOffset, l2.byteLength);
        runsOf(Math.floor(l2.length / 8), clusterSize, (j) => clusterBytes(v.getUint32(j * 8), v.getUint32(j * 8 + 4)), add);
      },
    };
    await walkTables(map, 0, this.size, out);
    if (!this.backing) return out.ranges();
    return unionRanges(out.ranges(), clipRanges(await sourceRanges(this.backing), 0, Math.min(this.size, this.backing.size)));
  }

  async close(): Promise<void> {
    await this.backing?.close();
    await this.dataFile?.close();
    await this.file.close();
  }
}

async function openDataFile(image: string, path: string): Promise<FileSource> {
  try {
    return await FileSource.open(path);
  } catch (err) {
    if (err instanceof DiskError && err.code === 'ENOENT') throw new DiskError('ENOENT', `${image}: its external data file ${path} is missing`);
    throw err;
  }
}
