import { DiskError, type ReadableDisk } from './block-source.js';
import type { Grain } from './vmdk-sparse.js';
import { RangeList, runsOf, walkTables, type Range } from './ranges.js';

/**
 * One ESXi "space-efficient sparse" extent (seSparse: ESXi 6.5+ snapshots, and disks over 2 TB
 * since 5.5), read-only. The format is not published; the layout and the strict checks follow
 * qemu's block/vmdk.c, which reads it read-only too:
 *
 *   sector 0   const header: 26 little-endian uint64 fields, then 304 zero bytes
 *   volatile header (one sector, where the const header says): magic, journal state
 *   grain directory: uint64 entries, 0 or 0x10000000_<grain table number>
 *   grain tables: 4096 uint64 entries each (64 sectors), covering 16 MiB of the disk
 *   grains: 4 KiB each, numbered from the start of the grains area
 *
 * Every offset and size is in 512-byte sectors. Journal, free bitmap and backmap only matter to
 * a writer and are not read.
 */
export const SE_CONST_MAGIC = 0xcafe_baben;
export const SE_VOLATILE_MAGIC = 0xcafe_cafen;
export const SE_VERSION = 0x0000_0002_0000_0001n;
/** The only geometry ESXi writes and qemu accepts: 8-sector grains, 64-sector grain tables. */
const GRAIN_SECTORS = 8;
const GT_SECTORS = 64;
const GT_ENTRIES = (GT_SECTORS * 512) / 8;
/** seSparse disks end just under 64 TiB. */
const MAX_CAPACITY_SECTORS = 2 ** 37;

export interface SeSparseConstHeader {
  version: bigint;
  /** Virtual size, in sectors. */
  capacity: number;
  grainSize: number;
  grainTableSize: number;
  flags: bigint;
  volatileHeaderOffset: number;
  volatileHeaderSize: number;
  grainDirOffset: number;
  grainDirSize: number;
  grainTablesOffset: number;
  grainTablesSize: number;
  grainsOffset: number;
  grainsSize: number;
}

export interface SeSparseVolatileHeader {
  freeGtNumber: bigint;
  nextTxnSeqNumber: bigint;
  replayJournal: bigint;
}

export function isSeSparseExtent(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  return new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true) === SE_CONST_MAGIC;
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const allZero = (b: Uint8Array): boolean => b.every((x) => x === 0);
/** A sector count or offset as a Number, or Infinity when it could not be one (caught by the range checks). */
const sectors = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v));

/** Decodes and checks the const header (sector 0); throws an Error saying what is wrong. */
export function decodeSeSparseConstHeader(h: Uint8Array): SeSparseConstHeader {
  if (h.length < 512) throw new Error('the seSparse const header is cut short');
  const v = view(h);
  const u = (i: number): bigint => v.getBigUint64(i * 8, true);
  if (u(0) !== SE_CONST_MAGIC) throw new Error(`bad seSparse const header magic 0x${u(0).toString(16)}`);
  const header: SeSparseConstHeader = {
    version: u(1),
    capacity: sectors(u(2)),
    grainSize: sectors(u(3)),
    grainTableSize: sectors(u(4)),
    flags: u(5),
    volatileHeaderOffset: sectors(u(10)),
    volatileHeaderSize: sectors(u(11)),
    grainDirOffset: sectors(u(16)),
    grainDirSize: sectors(u(17)),
    grainTablesOffset: sectors(u(18)),
    grainTablesSize: sectors(u(19)),
    grainsOffset: sectors(u(24)),
    grainsSize: sectors(u(25)),
  };
  if (header.version !== SE_VERSION) throw new Error(`unsupported seSparse version 0x${header.version.toString(16)}`);
  if (header.grainSize !== GRAIN_SECTORS) throw new Error(`unsupported seSparse grain size of ${header.grainSize} sectors`);
  if (header.grainTableSize !== GT_SECTORS) throw new Error(`unsupported seSparse grain table size of ${header.grainTableSize} sectors`);
  if (header.flags !== 0n) throw new Error(`unsupported seSparse flags 0x${header.flags.toString(16)}`);
  if (u(6) || u(7) || u(8) || u(9)) throw new Error('the seSparse const header has non-zero reserved fields');
  if (!allZero(h.subarray(208, 512))) throw new Error('the seSparse const header has non-zero padding');
  if (header.capacity < 1 || header.capacity > MAX_CAPACITY_SECTORS) throw new Error(`a seSparse capacity of ${header.capacity} sectors is invalid`);
  return header;
}

/** Decodes and checks the volatile header; throws an Error saying what is wrong. */
export function decodeSeSparseVolatileHeader(h: Uint8Array): SeSparseVolatileHeader {
  if (h.length < 512) throw new Error('the seSparse volatile header is cut short');
  const v = view(h);
  const magic = v.getBigUint64(0, true);
  if (magic !== SE_VOLATILE_MAGIC) throw new Error(`bad seSparse volatile header magic 0x${magic.toString(16)}`);
  const header = { freeGtNumber: v.getBigUint64(8, true), nextTxnSeqNumber: v.getBigUint64(16, true), replayJournal: v.getBigUint64(24, true) };
  if (header.replayJournal) throw new Error('the seSparse journal must be replayed first (the disk was not closed cleanly; open it in ESXi once)');
  if (!allZero(h.subarray(32, 512))) throw new Error('the seSparse volatile header has non-zero padding');
  return header;
}

const GD_ALLOCATED = 0x1000_0000n;
const GTE_TYPE_SHIFT = 60n;
const LOW48 = (1n << 48n) - 1n;

export class SeSparseExtent {
  private readonly tables = new Map<number, BigUint64Array>();

  private constructor(
    readonly file: ReadableDisk,
    readonly header: SeSparseConstHeader,
    private readonly gd: BigUint64Array,
  ) {}

  get size(): number {
    return this.header.capacity * 512;
  }
  get grainBytes(): number {
    return GRAIN_SECTORS * 512;
  }

  private fail(why: string): never {
    throw new DiskError('EFORMAT', `${this.file.path}: ${why}`);
  }

  static async open(file: ReadableDisk): Promise<SeSparseExtent> {
    const fail = (why: string): never => {
      throw new DiskError('EFORMAT', `${file.path}: ${why}`);
    };
    const within = (offset: number, count: number): boolean => offset * 512 + count * 512 <= file.size;
    const decode = <T>(f: (b: Uint8Array) => T, bytes: Uint8Array): T => {
      try {
        return f(bytes);
      } catch (err) {
        return fail((err as Error).message);
      }
    };
    const header = decode(decodeSeSparseConstHeader, await file.read(0, 512));
    const { volatileHeaderOffset: vOff, grainDirOffset: gdOff, grainDirSize: gdSize } = header;
    if (vOff < 1 || !within(vOff, 1)) fail('the seSparse volatile header lies outside the file');
    decode(decodeSeSparseVolatileHeader, await file.read(vOff * 512, 512));
    const gdEntries = Math.ceil(header.capacity / (GT_ENTRIES * GRAIN_SECTORS));
    if (gdSize * 64 < gdEntries) fail(`the seSparse grain directory (${gdSize} sectors) is too small for ${header.capacity} sectors`);
    if (gdOff < 1 || !within(gdOff, Math.ceil(gdEntries / 64))) fail('the seSparse grain directory lies past the end of the file');
    for (const [what, at] of [['grain tables', header.grainTablesOffset], ['grains', header.grainsOffset]] as const) {
      if (at < 1 || !Number.isSafeInteger(at * 512)) fail(`the seSparse ${what} area at sector ${at} is invalid`);
    }
    const raw = await file.read(gdOff * 512, gdEntries * 8);
    if (raw.length !== gdEntries * 8) fail('the seSparse grain directory is cut short');
    const v = view(raw);
    const gd = new BigUint64Array(gdEntries);
    for (let i = 0; i < gdEntries; i++) gd[i] = v.getBigUint64(i * 8, true);
    return new SeSparseExtent(file, header, gd);
  }

  /** seSparse extents carry no descriptor: it is always a file of its own. */
  async embeddedDescriptor(): Promise<undefined> {
    return undefined;
  }

  /** The grain table that grain directory entry `gdIndex` names, or undefined for none; an invalid entry fails. */
  private tableNumber(gdIndex: number): number | undefined {
    const entry = this.gd[gdIndex] ?? 0n;
    if (entry === 0n) return undefined;
    if (entry >> 32n !== GD_ALLOCATED) this.fail(`seSparse grain directory entry ${gdIndex} (0x${entry.toString(16)}) is invalid`);
    return Number(entry & 0xffff_ffffn);
  }

  private async grainTable(gdIndex: number): Promise<BigUint64Array | undefined> {
    const number = this.tableNumber(gdIndex);
    return number === undefined ? undefined : this.loadTable(number, gdIndex);
  }

  private async loadTable(number: number, gdIndex: number): Promise<BigUint64Array> {
    const sector = this.header.grainTablesOffset + number * GT_SECTORS;
    if ((sector + GT_SECTORS) * 512 > this.file.size) this.fail(`seSparse grain table ${number} (grain directory entry ${gdIndex}) lies past the end of the file`);
    let table = this.tables.get(sector);
    if (!table) {
      const raw = await this.file.read(sector * 512, GT_SECTORS * 512);
      if (raw.length !== GT_SECTORS * 512) this.fail(`seSparse grain table ${number} is cut short`);
      const v = view(raw);
      table = new BigUint64Array(GT_ENTRIES);
      for (let i = 0; i < GT_ENTRIES; i++) table[i] = v.getBigUint64(i * 8, true);
      if (this.tables.size >= 64) this.tables.clear(); // 64 tables of 32 KiB: bounded
      this.tables.set(sector, table);
    }
    return table;
  }

  /**
   * The byte ranges of this extent whose grains are allocated (type 3), from the grain directory
   * and tables, which fail here as they do on read. Unmapped and zeroed grains are not data; an
   * entry that grain() refuses counts as data, so reading it fails as reading the disk does.
   */
  async dataRanges(): Promise<Range[]> {
    const out = new RangeList();
    const map = {
      count: this.gd.length,
      span: GT_ENTRIES * this.grainBytes,
      key: (i: number): number | undefined => this.tableNumber(i),
      scan: async (number: number, add: (from: number, to: number) => void, gdIndex: number): Promise<void> => {
        const table = await this.loadTable(number, gdIndex);
        runsOf(table.length, this.grainBytes, (j) => (table[j] === 0n || table[j]! >> GTE_TYPE_SHIFT === 1n || table[j]! >> GTE_TYPE_SHIFT === 2n ? 0 : this.grainBytes), add);
      },
    };
    await walkTables(map, 0, this.size, out);
    return out.ranges();
  }

  /**
   * Grain table entries: the top nibble is the type. 0 unallocated (the whole entry must be 0),
   * 1 unmapped (SCSI UNMAP) and 2 zeroed, both reading as zeros even over a parent, 3 allocated:
   * the grain number is bits 0-47 shifted up 12, plus bits 48-59 as its low 12 bits.
   */
  async grain(index: number): Promise<Grain> {
    if (!Number.isInteger(index) || index < 0 || index * GRAIN_SECTORS >= this.header.capacity) this.fail(`grain ${index} is past the end of the seSparse extent`);
    const table = await this.grainTable(Math.floor(index / GT_ENTRIES));
    if (!table) return 'unallocated';
    const entry = table[index % GT_ENTRIES]!;
    switch (Number(entry >> GTE_TYPE_SHIFT)) {
      case 0:
        if (entry !== 0n) this.fail(`seSparse grain ${index} has an invalid unallocated entry 0x${entry.toString(16)}`);
        return 'unallocated';
      case 1:
      case 2:
        return 'zero';
      case 3: {
        const number = ((entry >> 48n) & 0xfffn) | ((entry & LOW48) << 12n);
        const sector = BigInt(this.header.grainsOffset) + number * BigInt(GRAIN_SECTORS);
        if ((sector + BigInt(GRAIN_SECTORS)) * 512n > BigInt(this.file.size)) this.fail(`seSparse grain ${index} points past the end of the file (grain ${number})`);
        const bytes = await this.file.read(Number(sector) * 512, this.grainBytes);
        if (bytes.length !== this.grainBytes) this.fail(`seSparse grain ${index} is cut short`);
        return bytes;
      }
      default:
        return this.fail(`seSparse grain ${index} has an entry of unknown type 0x${entry.toString(16)}`);
    }
  }
}
