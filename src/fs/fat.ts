import { u16, u32 } from '../gpt/le.js';
import type { ByteReader } from './byte-reader.js';
import { decodeBpb, type Bpb, type FatKind } from './fat-bpb.js';
import { VolumeUnreadable } from './unreadable.js';

export interface FatDirEntry {
  name: string;
  shortName: string;
  isDirectory: boolean;
  size: number;
  firstCluster: number;
}

export interface FatVolume {
  /** How the volume is laid out (and read). */
  kind: FatKind;
  /** What the FAT specification makes of its cluster count; differs from `kind` on a FAT32 of under 65,525 clusters. */
  clusterKind: FatKind;
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterSize: number;
  clusterCount: number;
  /** Bytes in the data area (clusterCount × clusterSize). */
  totalBytes: number;
  label: string;
  volumeId: string;
  /** Oddities that did not stop reading. */
  problems: string[];
  /** Free clusters FSInfo claims (FAT32), for comparison only: it is often stale. */
  fsInfoFreeClusters?: number;
  readDir(path: string): Promise<FatDirEntry[]>;
  stat(path: string): Promise<FatDirEntry | undefined>;
  exists(path: string): Promise<boolean>;
  /**
   * Free space counted from the FAT itself. With `enough`, counting may stop once that much is
   * found: the result is exact below `enough`, and at least `enough` otherwise.
   */
  freeBytes(enough?: number): Promise<number>;
  /** `*.efi` files under \EFI, up to three directories deep, as \EFI\…\name.efi paths. */
  findEfiBootFiles(): Promise<string[]>;
  /**
   * At most `maxBytes` of a file, as far as its size and cluster chain reach; undefined for a
   * directory or a missing file. Never allocates more than `maxBytes`.
   */
  readFile(path: string, maxBytes: number): Promise<Uint8Array | undefined>;
}

/** Largest FAT read into memory; a FAT32 of 2 TiB with 32 KiB clusters needs 256 MiB, so cap at 64 MiB. */
/** Typed arrays use the host's byte order; FAT is little-endian. */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MAX_FAT_BYTES = 64 * 1024 * 1024;
/** A directory with more entries than FAT allows (65,536) is damaged; stop there. */
const MAX_DIR_ENTRIES = 65536;
const ATTR_LFN = 0x0f;
const ATTR_DIRECTORY = 0x10;
const ATTR_VOLUME_ID = 0x08;

/** Opens a FAT12/16/32 volume read-only; throws VolumeUnreadable saying why when it is not one. */
export async function openFat(r: ByteReader): Promise<FatVolume> {
  const bpb = decodeBpb(await r.read(0, 512));
  if (!bpb.ok) throw new VolumeUnreadable(`not a FAT volume: ${bpb.reason}`);
  return new FatReader(r, bpb).volume();
}

class FatReader {
  private fat?: Promise<Uint8Array>;
  private readonly clusterSize: number;

  constructor(
    private readonly r: ByteReader,
    private readonly bpb: Bpb,
  ) {
    this.clusterSize = bpb.bytesPerSector * bpb.sectorsPerCluster;
  }

  async volume(): Promise<FatVolume> {
    const b = this.bpb;
    const problems = [...b.problems];
    const dataEnd = b.dataOffset + b.clusterCount * this.clusterSize;
    if (dataEnd > this.r.size) problems.push(`the volume claims ${dataEnd} bytes but the partition holds ${this.r.size}`);
    const fsInfoFreeClusters = b.kind === 'fat32' ? await this.fsInfoFree() : undefined;
    return {
      kind: b.kind,
      clusterKind: b.clusterKind,
      bytesPerSector: b.bytesPerSector,
      sectorsPerCluster: b.sectorsPerCluster,
      clusterSize: this.clusterSize,
      clusterCount: b.clusterCount,
      totalBytes: b.clusterCount * this.clusterSize,
      label: b.label,
      volumeId: b.volumeId,
      problems,
      ...(fsInfoFreeClusters !== undefined ? { fsInfoFreeClusters } : {}),
      readDir: (path) => this.readDir(path),
      stat: (path) => this.stat(path),
      exists: async (path) => (await this.stat(path)) !== undefined,
      freeBytes: async (enough?: number) => (await this.freeClusters(enough === undefined ? Infinity : Math.ceil(enough / this.clusterSize))) * this.clusterSize,
      findEfiBootFiles: () => this.findEfiBootFiles(),
      readFile: (path, maxBytes) => this.readFile(path, maxBytes),
    };
  }

  /** FSInfo's free-cluster hint, when its three signatures are present. */
  private async fsInfoFree(): Promise<number | undefined> {
    if (this.bpb.fsInfoSector === 0 || this.bpb.fsInfoSector >= this.bpb.reservedSectors) return undefined;
    const s = await this.r.read(this.bpb.fsInfoSector * this.bpb.bytesPerSector, 512);
    if (u32(s, 0) !== 0x41615252 || u32(s, 484) !== 0x61417272) return undefined;
    const free = u32(s, 488);
    return free === 0xffffffff ? undefined : free;
  }

  private loadFat(): Promise<Uint8Array> {
    this.fat ??= (async () => {
      const b = this.bpb;
      const needed = Math.ceil(((b.clusterCount + 2) * (b.kind === 'fat12' ? 3 : b.kind === 'fat16' ? 4 : 8)) / 2);
      const length = Math.min(b.fatSectors * b.bytesPerSector, needed, MAX_FAT_BYTES);
      return this.r.read(b.fatOffset, length);
    })();
    return this.fat;
  }

  /**
   * The FAT entry for a cluster, from `fat` holding the table's bytes from byte `base` on;
   * undefined when those bytes do not reach it (short read or cap).
   */
  private entry(fat: Uint8Array, cluster: number, base = 0): number | undefined {
    switch (this.bpb.kind) {
      case 'fat12': {
        const o = cluster + (cluster >> 1) - base;
        if (o < 0 || o + 1 >= fat.length) return undefined;
        const v = fat[o]! | (fat[o + 1]! << 8);
        return cluster & 1 ? v >> 4 : v & 0xfff;
      }
      case 'fat16': {
        const o = cluster * 2 - base;
        return o >= 0 && o + 1 < fat.length ? fat[o]! | (fat[o + 1]! << 8) : undefined;
      }
      case 'fat32': {
        const o = cluster * 4 - base;
        if (o < 0 || o + 3 >= fat.length) return undefined;
        return (fat[o]! | (fat[o + 1]! << 8) | (fat[o + 2]! << 16)) + (fat[o + 3]! & 0x0f) * 0x1000000;
      }
    }
  }

  /**
   * Free clusters counted from the FAT itself. With `enough`, counting stops once that many are
   * found and the result is a lower bound: "is there 15 MiB free?" then reads only the first
   * blocks of a roomy ESP's FAT instead of all of it (800 KiB for a 100 MiB FAT32 ESP).
   */
  private async freeClusters(enough = Infinity): Promise<number> {
    const b = this.bpb;
    const end = b.clusterCount + 2;
    if (b.kind === 'fat12') {
      const fat = await this.loadFat();
      let free = 0;
      for (let c = 2; c < end; c++) if (this.entry(fat, c) === 0) free++;
      return free;
    }
    const width = b.kind === 'fat16' ? 2 : 4;
    const length = Math.min(b.fatSectors * b.bytesPerSector, end * width, MAX_FAT_BYTES);
    let free = 0;
    // Each block holds as many entries as free clusters are still missing (at least 32 KiB, at most
    // 1 MiB): if they are all free, that block is the last one read.
    for (let at = 0; at < length && free < enough; ) {
      const missing = Number.isFinite(enough) ? (enough - free + (at === 0 ? 2 : 0)) * width : Infinity;
      const block = Math.min(Math.max(32 * 1024, Math.ceil(missing / 4096) * 4096), 1024 * 1024, length - at);
      const bytes = await this.r.read(b.fatOffset + at, block);
      if (bytes.length === 0) break;
      free += countFreeEntries(bytes, width, at / width, end);
      if (bytes.length < block) break; // short read: the partition ends here
      at += block;
    }
    return free;
  }

  /** FAT blocks read for chain walks, so that following a directory reads a few KiB, not the whole FAT. */
  private readonly fatBlocks = new Map<number, Uint8Array>();
  private static readonly FAT_BLOCK = 4096;

  /** One FAT entry, read through a small block cache (FAT12 entries may straddle two blocks). */
  private async entryOf(cluster: number): Promise<number | undefined> {
    const width = this.bpb.kind === 'fat12' ? 1.5 : this.bpb.kind === 'fat16' ? 2 : 4;
    const offset = Math.floor(cluster * width);
    const blockIndex = Math.floor(offset / FatReader.FAT_BLOCK);
    const base = blockIndex * FatReader.FAT_BLOCK;
    const block = async (i: number): Promise<Uint8Array> => {
      let bytes = this.fatBlocks.get(i);
      if (!bytes) {
        const length = Math.max(0, Math.min(FatReader.FAT_BLOCK, this.bpb.fatSectors * this.bpb.bytesPerSector - i * FatReader.FAT_BLOCK));
        bytes = await this.r.read(this.bpb.fatOffset + i * FatReader.FAT_BLOCK, length);
        this.fatBlocks.set(i, bytes);
      }
      return bytes;
    };
    let bytes = await block(blockIndex);
    if (offset - base + 4 > bytes.length && bytes.length === FatReader.FAT_BLOCK) {
      const next = await block(blockIndex + 1);
      const joined = new Uint8Array(bytes.length + next.length);
      joined.set(bytes);
      joined.set(next, bytes.length);
      bytes = joined;
    }
    return this.entry(bytes, cluster, base);
  }

  async readFile(path: string, maxBytes: number): Promise<Uint8Array | undefined> {
    const entry = (await this.resolve(path))?.entry;
    if (!entry || entry.isDirectory) return undefined;
    const want = Math.max(0, Math.min(entry.size, maxBytes));
    const out = new Uint8Array(want);
    let at = 0;
    for (const c of await this.chain(entry.firstCluster, Math.ceil(want / this.clusterSize))) {
      const length = Math.min(this.clusterSize, want - at);
      const bytes = await this.r.read(this.bpb.dataOffset + (c - 2) * this.clusterSize, length);
      out.set(bytes, at);
      at += bytes.length;
      if (bytes.length < length) break; // the partition ends here
    }
    return out.subarray(0, at);
  }

  /** The cluster chain from `first` (at most `limit` clusters), stopping at end-of-chain, a bad or free link, or a loop. */
  private async chain(first: number, limit = Infinity): Promise<number[]> {
    const eoc = this.bpb.kind === 'fat12' ? 0xff8 : this.bpb.kind === 'fat16' ? 0xfff8 : 0x0ffffff8;
    const clusters: number[] = [];
    const seen = new Set<number>();
    let c = first;
    while (c >= 2 && c < this.bpb.clusterCount + 2 && !seen.has(c) && clusters.length <= this.bpb.clusterCount && clusters.length < limit) {
      seen.add(c);
      clusters.push(c);
      const next = await this.entryOf(c);
      if (next === undefined || next >= eoc || next < 2 || next === eoc - 1) break;
      c = next;
    }
    return clusters;
  }

  private async dirBytes(firstCluster: number | 'root'): Promise<Uint8Array> {
    const b = this.bpb;
    if (firstCluster === 'root' && b.kind !== 'fat32') return this.r.read(b.rootDirOffset, b.rootEntryCount * 32);
    const start = firstCluster === 'root' ? b.rootCluster : firstCluster;
    const clusters = (await this.chain(start)).slice(0, Math.ceil((MAX_DIR_ENTRIES * 32) / this.clusterSize));
    const parts = await Promise.all(clusters.map((c) => this.r.read(b.dataOffset + (c - 2) * this.clusterSize, this.clusterSize)));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Directories already listed: finding the EFI files and resolving paths walk the same ones. */
  private readonly listings = new Map<number | 'root', Promise<FatDirEntry[]>>();

  private list(dir: number | 'root'): Promise<FatDirEntry[]> {
    let listing = this.listings.get(dir);
    if (!listing) {
      listing = this.dirBytes(dir).then(parseDirectory);
      this.listings.set(dir, listing);
    }
    return listing;
  }

  private async resolve(path: string): Promise<{ dir: number | 'root'; entry?: FatDirEntry } | undefined> {
    const parts = path.split(/[\\/]+/).filter(Boolean);
    let dir: number | 'root' = 'root';
    let entry: FatDirEntry | undefined;
    for (const part of parts) {
      if (entry && !entry.isDirectory) return undefined;
      const want = part.toUpperCase();
      entry = (await this.list(dir)).find((e) => e.name.toUpperCase() === want || e.shortName.toUpperCase() === want);
      if (!entry) return undefined;
      dir = entry.firstCluster >= 2 ? entry.firstCluster : 'root'; // ".." entries point to 0 for the root
    }
    return entry ? { dir, entry } : { dir };
  }

  async readDir(path: string): Promise<FatDirEntry[]> {
    const found = await this.resolve(path);
    if (!found || (found.entry && !found.entry.isDirectory)) throw new Error(`no such directory: ${path}`);
    return (await this.list(found.dir)).filter((e) => e.name !== '.' && e.name !== '..');
  }

  async stat(path: string): Promise<FatDirEntry | undefined> {
    return (await this.resolve(path))?.entry;
  }

  async findEfiBootFiles(): Promise<string[]> {
    const found: string[] = [];
    const efi = await this.stat('\\EFI');
    if (!efi?.isDirectory || efi.firstCluster < 2) return found;
    const walk = async (cluster: number, path: string, depth: number): Promise<void> => {
      for (const e of await this.list(cluster)) {
        if (e.name === '.' || e.name === '..') continue;
        const child = `${path}\\${e.name}`;
        if (e.isDirectory && depth < 3 && e.firstCluster >= 2 && e.firstCluster !== cluster) await walk(e.firstCluster, child, depth + 1);
        else if (!e.isDirectory && /\.efi$/i.test(e.name)) found.push(child);
      }
    };
    await walk(efi.firstCluster, `\\${efi.name}`, 1);
    return found;
  }
}

/** Decodes directory entries, joining long-file-name runs whose checksum matches their short entry. */
export function parseDirectory(bytes: Uint8Array): FatDirEntry[] {
  const entries: FatDirEntry[] = [];
  let lfn: { checksum: number; parts: string[] } | undefined;
  const count = Math.min(Math.floor(bytes.length / 32), MAX_DIR_ENTRIES);
  for (let i = 0; i < count; i++) {
    const e = bytes.subarray(i * 32, i * 32 + 32);
    if (e[0] === 0x00) break; // end of directory
    if (e[0] === 0xe5) {
      lfn = undefined;
      continue;
    }
    const attr = e[11]!;
    if ((attr & 0x3f) === ATTR_LFN) {
      const seq = e[0]! & 0x1f;
      if (e[0]! & 0x40 || !lfn) lfn = { checksum: e[13]!, parts: [] };
      if (seq >= 1 && seq <= 20 && e[13] === lfn.checksum) lfn.parts[seq - 1] = lfnChars(e);
      else lfn = undefined;
      continue;
    }
    if (attr & ATTR_VOLUME_ID) {
      lfn = undefined;
      continue;
    }
    const shortName = decodeShortName(e);
    const long = lfn && lfn.checksum === shortChecksum(e) && lfn.parts.every((p) => p !== undefined) ? lfn.parts.join('') : undefined;
    lfn = undefined;
    entries.push({
      name: long || shortName,
      shortName,
      isDirectory: (attr & ATTR_DIRECTORY) !== 0,
      size: u32(e, 28),
      firstCluster: u16(e, 20) * 0x10000 + u16(e, 26),
    });
  }
  return entries;
}

/** The 13 UTF-16 characters one LFN entry holds, up to a NUL. */
function lfnChars(e: Uint8Array): string {
  let s = '';
  for (const o of [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]) {
    const unit = u16(e, o);
    if (unit === 0x0000 || unit === 0xffff) break;
    s += String.fromCharCode(unit);
  }
  return s;
}

/** The 8.3 name; Windows NT's case flags in byte 12 mark an all-lowercase base (0x08) or extension (0x10). */
function decodeShortName(e: Uint8Array): string {
  const bytes = Array.from(e.subarray(0, 11));
  if (bytes[0] === 0x05) bytes[0] = 0xe5; // 0x05 stands for a leading 0xE5 (KANJI lead byte)
  const text = (from: number, to: number): string => String.fromCharCode(...bytes.slice(from, to)).trimEnd();
  const flags = e[12]!;
  const base = flags & 0x08 ? text(0, 8).toLowerCase() : text(0, 8);
  const ext = flags & 0x10 ? text(8, 11).toLowerCase() : text(8, 11);
  return ext ? `${base}.${ext}` : base;
}

function shortChecksum(e: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + e[i]!) & 0xff;
  return sum;
}

/**
 * Free (zero) FAT16/FAT32 entries in `bytes`, a piece of the FAT whose first entry is number
 * `firstEntry`, counting only clusters 2 up to `end` (FAT32 entries use their low 28 bits).
 * Typed-array views count several times faster than a DataView, and read FAT's little-endian
 * words directly on little-endian hosts.
 */
function countFreeEntries(bytes: Uint8Array, width: 2 | 4, firstEntry: number, end: number): number {
  const count = Math.floor(bytes.length / width);
  const from = Math.max(0, 2 - firstEntry);
  const to = Math.min(count, end - firstEntry);
  let free = 0;
  if (!LITTLE_ENDIAN_HOST) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = from; i < to; i++) if ((width === 2 ? view.getUint16(i * 2, true) : view.getUint32(i * 4, true) & 0x0fffffff) === 0) free++;
    return free;
  }
  const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
  if (width === 2) {
    const words = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    for (let i = from; i < to; i++) if (words[i] === 0) free++;
  } else {
    const words = new Uint32Array(aligned.buffer, aligned.byteOffset, count);
    for (let i = from; i < to; i++) if ((words[i]! & 0x0fffffff) === 0) free++;
  }
  return free;
}
