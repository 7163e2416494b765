import { dirname, resolve } from 'node:path';
import { zlib } from '../lazy-zlib.js';
import { DiskError, type BlockSource } from './block-source.js';
import { blockSpans, padTo } from './block-spans.js';
import type { FileSource } from './file-source.js';

/**
 * qcow2 images, read-only, per qemu's docs/interop/qcow2.txt: big-endian header, a two-level
 * L1/L2 cluster map, clusters that read as zero, raw-DEFLATE compressed clusters, and backing
 * files for unallocated clusters. Encryption, external data files and extended L2 are refused.
 */
const KNOWN_INCOMPATIBLE = 0b11; // dirty (refcounts only) and corrupt
const OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;

export class Qcow2Source implements BlockSource {
  readonly format = 'qcow2' as const;
  readonly writable = false;
  readonly readOnlyReason = 'gptdoctor reads qcow2 images but does not write them';
  private read_ = 0;
  private readonly l2Cache = new Map<number, Uint8Array>();

  private constructor(
    private readonly file: FileSource,
    readonly size: number,
    private readonly clusterBits: number,
    private readonly l1: Uint8Array,
    private readonly backing: BlockSource | undefined,
    /** Findings-worthy facts about the container (the corrupt bit). */
    readonly notes: string[],
  ) {}

  get path(): string {
    return this.file.path;
  }
  get bytesRead(): number {
    return this.read_;
  }

  /** `openBacking` opens the backing file (it is given the resolved path) with the same rules. */
  static async open(file: FileSource, openBacking: (path: string) => Promise<BlockSource>): Promise<Qcow2Source> {
    const fail = (why: string): never => {
      throw new DiskError('EFORMAT', `${file.path}: ${why}`);
    };
    const h = await file.read(0, 112);
    if (h.length < 72) fail('the qcow2 header is cut short');
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    const version = v.getUint32(4);
    if (version !== 2 && version !== 3) fail(`qcow2 version ${version} is not 2 or 3`);
    const clusterBits = v.getUint32(20);
    if (clusterBits < 9 || clusterBits > 21) fail(`qcow2 cluster size 2^${clusterBits} is out of range`);
    const size = Number(v.getBigUint64(24));
    if (!Number.isSafeInteger(size)) fail('qcow2 virtual size is too large');
    if (v.getUint32(32) !== 0) fail('the qcow2 image is encrypted');
    const notes: string[] = [];
    if (version === 3) {
      const incompatible = v.getBigUint64(72);
      if (incompatible & ~BigInt(KNOWN_INCOMPATIBLE)) fail(`the qcow2 image uses features gptdoctor cannot read (incompatible bits 0x${incompatible.toString(16)}: external data file, zstd or extended L2)`);
      if (incompatible & 2n) notes.push('qcow2 header has the corrupt bit set');
    }
    const l1Size = v.getUint32(36);
    const l1Offset = Number(v.getBigUint64(40));
    const l2Entries = 2 ** (clusterBits - 3);
    if (l1Size < Math.ceil(size / (2 ** clusterBits * l2Entries)) || l1Size > 32 * 1024 * 1024) fail('the qcow2 L1 table size does not match the disk size');
    if (l1Offset + l1Size * 8 > file.size) fail('the qcow2 L1 table lies past the end of the file');
    const l1 = await file.read(l1Offset, l1Size * 8);
    let backing: BlockSource | undefined;
    const backingOffset = Number(v.getBigUint64(8));
    const backingSize = v.getUint32(16);
    if (backingOffset) {
      if (backingSize === 0 || backingSize > 1023) fail('the qcow2 backing file name is invalid');
      const name = new TextDecoder().decode(await file.read(backingOffset, backingSize));
      backing = await openBacking(resolve(dirname(file.path), name));
    }
    return new Qcow2Source(file, size, clusterBits, l1, backing, notes);
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
      if (host) return padTo(await this.file.read(host + within, length), length);
    }
    if (this.backing && guestOffset < this.backing.size) return padTo(await this.backing.read(guestOffset, length), length);
    return new Uint8Array(length);
  }

  private async compressed(entry: bigint): Promise<Uint8Array> {
    const x = 62n - BigInt(this.clusterBits - 8);
    const host = Number(entry & ((1n << x) - 1n));
    const sectors = Number((entry >> x) & ((1n << (62n - x)) - 1n)) + 1;
    const raw = await this.file.read(host, sectors * 512 - (host % 512));
    try {
      // A cluster inflates to one cluster at most: a hostile stream that would inflate further is
      // stopped at that size (zlib throws) instead of filling memory.
      return zlib().inflateRawSync(raw, { finishFlush: 2 /* Z_SYNC_FLUSH: trailing bytes are padding */, maxOutputLength: 2 ** this.clusterBits });
    } catch (err) {
      throw new DiskError('EFORMAT', `${this.path}: a compressed qcow2 cluster does not inflate (${(err as Error).message})`);
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

  async close(): Promise<void> {
    await this.backing?.close();
    await this.file.close();
  }
}
